namespace Actors.Host.Cli;

/// <summary>
/// One command-line option. Options that set configuration name their HOCON key: the command line
/// is simply the last, strongest configuration layer. <see cref="CommandLine"/> turns these
/// declarations into System.CommandLine options, so a new entry needs nothing else.
/// </summary>
/// <param name="Aliases">other spellings, e.g. <c>-o</c> for <c>--output</c>.</param>
/// <param name="Choices">the only values accepted (checked by the parser).</param>
/// <param name="Required">the parser refuses the command line without it.</param>
public sealed record CliOption(string Name, string? HoconKey, string Help, string ValueName = "VALUE",
    bool Repeatable = false, bool IsFlag = false, string[]? Aliases = null, string[]? Choices = null,
    bool Required = false);

/// <summary>A positional argument of a command (exactly one value).</summary>
public sealed record CliArgument(string Name, string Help);

/// <summary>
/// A sub-command (<c>actors torrent create</c>, <c>actors lab link toxic</c>): its own options,
/// arguments and sub-commands, and what runs it.
/// </summary>
public sealed record CliCommand(string Name, string Summary, IReadOnlyList<CliOption> Options, Func<ParsedArguments, Task<int>> Run)
{
    public IReadOnlyList<CliArgument> Arguments { get; init; } = [];
    public IReadOnlyList<CliCommand> Subcommands { get; init; } = [];

    /// <summary>For a command made only of sub-commands: running it alone is a usage error.</summary>
    public static Func<ParsedArguments, Task<int>> NeedsSubcommand(string names) =>
        _ => throw new UsageException($"expected a sub-command: {names}");
}

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
