namespace Actors.Lab.Agent;

/// <summary>Marks what agents send to the lab across nodes; bound to <see cref="LabSerializer"/> in config/cluster.conf.</summary>
public interface ILabMessage;

/// <summary>
/// One reading of an instrument: a counter's running total or a gauge's value, for one tag set.
/// <paramref name="Tags"/> is "key=value" pairs sorted by key and joined by ","; empty without tags.
/// </summary>
public sealed record Figure(string Name, string Kind, string Unit, string Description, string Tags, double Value)
{
    public const string Counter = "counter";
    public const string Gauge = "gauge";
}

/// <summary>
/// A node's periodic report to the lab: who it is, which process, and every figure its meters hold.
/// Counters are totals since the process started; the lab turns them into rates.
/// </summary>
public sealed record NodeReport(string Node, string Address, IReadOnlyList<string> Roles, int Pid,
    long StartedUnixMs, long SentUnixMs, IReadOnlyList<Figure> Figures) : ILabMessage;

/// <summary>Something happened on a node (a role event, or events the agent dropped to stay within its rate).</summary>
public sealed record NodeEvent(string Node, string Kind, string Text, long UnixMs) : ILabMessage;

/// <summary>Where agents send: the lab node's status actor (see LabNode's actor tree).</summary>
public static class LabPaths
{
    public const string Status = "/user/lab/lab/status";
}
