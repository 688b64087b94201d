namespace Actors.Lab.Agent;

// What a process that is no cluster member (a peer, a caller) reports to the lab's HTTP API
// (POST /api/report, see ProcessReporter): its figures like an agent's NodeReport, plus what the
// dashboard's swarm and calls views need. JSON, camelCase; the lab never trusts sizes (capped there).

/// <summary>Bytes exchanged with one remote peer (by its peer id, hex) since the torrent started.</summary>
public sealed record ExchangeView(string Peer, string Remote, long Uploaded, long Downloaded, bool Connected);

/// <summary>One torrent of one peer: who it is, how complete, and what it exchanged with whom.</summary>
public sealed record TorrentPeerView(string InfoHash, string Name, string PeerId, string Label, int Have, int Total,
    bool Complete, int ListenPort, IReadOnlyList<ExchangeView> Exchanges);

/// <summary>One call as one side sees it: <c>state</c> ringing, in-call or ended; RTT, jitter and loss so far.</summary>
public sealed record CallView(string CallId, string Id, string Peer, string Role, string State, string? Path,
    double? RttMs, double? JitterMs, double? Loss, string? Result, long UpdatedUnixMs);

/// <summary>The body of POST /api/report.</summary>
public sealed record ProcessReport(string Node, IReadOnlyList<string> Roles, int Pid, long StartedUnixMs, long SentUnixMs,
    IReadOnlyList<Figure> Figures, IReadOnlyList<TorrentPeerView>? Torrents, IReadOnlyList<CallView>? Calls);
