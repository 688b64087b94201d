namespace Actors.Host.Cli;

/// <summary>
/// One command-line option. Options that set configuration name their HOCON key: the command line
/// is simply the last, strongest configuration layer.
/// </summary>
public sealed record CliOption(string Name, string? HoconKey, string Help, string ValueName = "VALUE",
    bool Repeatable = false, bool IsFlag = false);

/// <summary>The options every cluster member (web, tracker, ...) understands.</summary>
public static class CommonOptions
{
    public const string Config = "--config";

    public static readonly CliOption[] ClusterMember =
    [
        new("--seed", "actors.cluster.seeds", "a seed node's cluster address; repeat for several. None: form a new cluster", "HOST:PORT", Repeatable: true),
        new("--cluster-host", "actors.cluster.host", "address other nodes use to reach this node", "HOST"),
        new("--cluster-port", "actors.cluster.port", "cluster (Akka.Remote) port; 0 picks a free one", "PORT"),
        new("--name", "actors.node.name", "the node's name in logs", "NAME"),
        new(Config, null, "a HOCON file that overrides config/*.conf", "FILE"),
    ];
}
