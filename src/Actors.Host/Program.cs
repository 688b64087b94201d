using Actors.Host.Cli;
using Actors.Host.Roles;

// `actors <role> [options]`: every role of the system from one binary.
StandardOutput.Claim();

// A new command is one more entry here; its options, arguments and help come from its declarations.
IRoleCommand[] commands =
[
    new SeedRole(), new WebRole(), new TrackerRole(), new TorrentCommand(), new PeerCommand(),
    new RendezvousRole(), new RelayRole(), new CallerCommand(), new LabRole(), new DhtCommand(), new AgentRole(),
];

return await CommandLine.RunAsync(commands, args);
