using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Host.Roles;
using Actors.Net.Configuration;

// `actors <role> [options]`: every role of the system from one binary.
StandardOutput.Claim();

IRoleCommand[] commands =
[
    new SeedRole(), new WebRole(), new TrackerRole(), new TorrentCommand(), new PeerCommand(),
    new RendezvousRole(), new RelayRole(), new CallerCommand(), new LabRole(), new DhtCommand(),
];

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    StandardOutput.Writer.WriteLine("Usage: actors <role> [options]    (actors <role> --help for its options)\n\nRoles:");
    foreach (var c in commands) StandardOutput.Writer.WriteLine($"  {c.Name,-12}{c.Summary}");
    return args.Length == 0 ? 2 : 0;
}

var command = commands.FirstOrDefault(c => c.Name == args[0]);
if (command is null)
{
    Console.Error.WriteLine($"actors: unknown role '{args[0]}' (try actors --help)");
    return 2;
}

RoleFailure.Command = command.Name;
try
{
    return await command.RunAsync(args[1..]);
}
catch (UsageException ex)
{
    Console.Error.WriteLine($"actors {command.Name}: {ex.Message} (try actors {command.Name} --help)");
    return 2;
}
catch (SettingsException ex)
{
    Console.Error.WriteLine($"actors {command.Name}: configuration error: {ex.Message}");
    return 2;
}
