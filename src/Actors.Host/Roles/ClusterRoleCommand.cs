using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// A role that runs as a cluster member: its options (plus the common cluster ones) become the
/// strongest configuration layer, and the node is handed to <see cref="ClusterNode"/>.
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

    public virtual IReadOnlyList<CliCommand> Subcommands => [];

    /// <summary>Whether a node the cluster downed joins again rather than exiting (see <see cref="ClusterNode.RunAsync"/>).</summary>
    protected virtual bool RejoinWhenDowned => false;

    /// <summary>
    /// Whether the role keeps registries in Distributed Data: its node then also carries the
    /// cluster role of <c>akka.cluster.distributed-data.role</c>, and only such nodes run a replica.
    /// </summary>
    protected virtual bool UsesDistributedData => false;

    public Task<int> RunAsync(ParsedArguments args)
    {
        var config = ConfigLoader.Load(ConfigFiles, args.ToHocon(), args.Value(CommonOptions.Config));
        // Before any socket exists: .NET reads it when its socket engine starts.
        InlineSocketCompletions.Apply(config);
        var dataRole = UsesDistributedData ? config.GetString("akka.cluster.distributed-data.role", "") : "";
        IReadOnlyList<string> roles = string.IsNullOrEmpty(dataRole) ? [Name] : [Name, dataRole];
        return ClusterNode.RunAsync(roles, config, Prepare(config), RejoinWhenDowned);
    }
}
