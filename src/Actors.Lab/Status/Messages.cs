namespace Actors.Lab.Status;

/// <summary>Ask the status actor for the cluster as the lab sees it now; answered with <see cref="StatusSnapshot"/>.</summary>
public sealed class GetStatus { public static readonly GetStatus Instance = new(); private GetStatus() { } }

/// <summary>A figure with its rate per second (counters, from the last two reports).</summary>
public sealed record FigureValue(string Name, string Kind, string Unit, string Description, string Tags, double Value, double? Rate);

/// <summary>
/// One node. <paramref name="Status"/> is one of <c>up</c>, <c>joining</c>, <c>leaving</c>,
/// <c>unreachable</c>, <c>down</c>, <c>stopped</c>, <c>paused</c> (see <see cref="NodeStatusRules"/>).
/// <paramref name="History"/> holds the last samples (one a report) of bytes in/out per second,
/// requests per second, CPU % and memory MB, for sparklines.
/// </summary>
public sealed record NodeStatus(string Name, IReadOnlyList<string> Roles, string Address, string Status, bool Reachable,
    bool Leader, int? Pid, double? UptimeSeconds, long? LastReportUnixMs, bool Managed,
    IReadOnlyList<FigureValue> Figures, IReadOnlyDictionary<string, double[]> History);

public sealed record StatusSnapshot(long UnixMs, string? Leader, IReadOnlyList<NodeStatus> Nodes);
