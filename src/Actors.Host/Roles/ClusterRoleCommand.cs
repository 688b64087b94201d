using Actors.Host.Cli;
using Actors.Host.Hosting;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// A role that runs as a cluster member: parses its options into the configuration, prints help,
/// and hands the node to <see cref="ClusterNode"/>.
/// </summary>
public abstract class ClusterRoleCommand : IRoleCommand
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    protected abstract IReadOnlyList<CliOption> RoleOptions { get; }

    /// <summary>
    /// Reads and checks the role's settings (throwing <see cref="Actors.Net.Configuration.SettingsException"/>
    /// before any actor system exists, so a bad value fails fast) and returns what starts the role's actors.
    /// </summary>
    protected abstract Action<ActorSystem> Prepare(Config config);

    /// <summary>The config/*.conf files the role reads, strongest first (cluster.conf always comes last).</summary>
    protected virtual IReadOnlyList<string> ConfigFiles => [Name];

    public IReadOnlyList<CliOption> Options => [.. RoleOptions, .. CommonOptions.ClusterMember];

    public Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse(args, Options);
        if (parsed.HelpRequested)
        {
            StandardOutput.Writer.Write(Help.ForCommand($"actors {Name} [options]", Summary, Options));
            return Task.FromResult(0);
        }
        if (parsed.Positional.Count > 0)
            throw new UsageException($"unexpected argument '{parsed.Positional[0]}'");
        var config = ConfigLoader.Load(ConfigFiles, parsed.ToHocon(Options), parsed.Value(CommonOptions.Config));
        return ClusterNode.RunAsync(Name, config, Prepare(config));
    }
}
