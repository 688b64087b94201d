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

public sealed record StatusSnapshot(long UnixMs, string? Leader, IReadOnlyList<NodeStatus> Nodes)
{
    /// <summary>Swarms from the peers' reports (POST /api/report), for the dashboard's swarm view.</summary>
    public IReadOnlyList<SwarmView> Swarms { get; init; } = [];
    /// <summary>Calls from the callers' reports, newest first.</summary>
    public IReadOnlyList<CallStatus> Calls { get; init; } = [];
}

/// <summary>A peer of a swarm: reported by its process (completion known), or only seen by others (an outside client).</summary>
public sealed record SwarmPeer(string Id, string Label, string Node, double? Completion, bool Reported);

/// <summary>Bytes that went from one peer to another (peer ids), as the larger of the two sides' counts.</summary>
public sealed record SwarmTransfer(string From, string To, long Bytes);

/// <summary>One torrent's swarm as the reporting peers see it: who is in it, how complete, who uploads to whom.</summary>
public sealed record SwarmView(string InfoHash, string Name, IReadOnlyList<SwarmPeer> Peers, IReadOnlyList<SwarmTransfer> Transfers);

/// <summary>One call, merged from both sides' reports (the caller's figures first): the pair, path, RTT, jitter, loss.</summary>
public sealed record CallStatus(string CallId, string From, string To, string State, string? Path,
    double? RttMs, double? JitterMs, double? Loss, string? Result, long UpdatedUnixMs);
