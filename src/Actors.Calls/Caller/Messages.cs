using Actors.Calls.Protocol;

namespace Actors.Calls.Caller;

// Published on the actor system's event stream by the caller agent: the CLI prints them, tests
// subscribe to them.

/// <summary>Registered at a rendezvous: the first time, and again after each reconnection.</summary>
public sealed record CallerRegistered(string Id, string ObservedHost, int ObservedPort, bool Reachable, int ListenPort);
/// <summary>The caller cannot go on (refused, displaced, rendezvous unreachable); the agent stops.</summary>
public sealed record CallerStopped(string Id, string Reason);
/// <summary>The rendezvous connection dropped after registration; the agent dials a rendezvous again after <paramref name="RetryIn"/>.</summary>
public sealed record RendezvousConnectionLost(string Id, string Reason, TimeSpan RetryIn);
public sealed record IncomingRing(string CallId, string From);
public sealed record PathEstablished(string CallId, PathKind Path, double SetupMs);
public sealed record TextReceived(string CallId, string From, string Body);
/// <summary>During a call, at each pong (every 500 ms): the last RTT sample, jitter and loss so far (the Lab's calls view).</summary>
public sealed record CallStats(string CallId, string Peer, bool IsCaller, PathKind Path, double RttMs, double? JitterMs, double Loss);

/// <summary>
/// The one-line report at the end of a call (printed as JSON by the CLI). <paramref name="Path"/>
/// is the path the call ended on; <paramref name="PunchAttempts"/> how many hole-punch dials it
/// made (null: none were asked for).
/// </summary>
public sealed record CallSummary(
    string Id, string Peer, string CallId, string Role, string Result, string Detail,
    string? Path, double? SetupMs, double? RttMs, double? JitterMs, double Loss,
    long FramesSent, long FramesReceived, long BytesSent, long BytesReceived,
    int TextsReceived, int PathChanges, double DurationS, int? PunchAttempts = null,
    string MediaPath = "tcp", UdpSummary? Udp = null);

/// <summary>
/// The UDP media path of a call (version 2; null when none was offered): whether it came up, why
/// not or why it went down, its own RTT (UDP Ping/Pong), RFC 3550 jitter and loss, frames each way,
/// the jitter buffer's played / concealed (missing at playout) / late frames, and datagrams refused
/// as forged or malformed (<paramref name="Rejected"/>) or replayed, or dropped unread because
/// <c>max-queued-datagrams</c> already waited (<paramref name="Overflowed"/>: a flood).
/// </summary>
public sealed record UdpSummary(bool Up, string? Note, double? RttMs, double? JitterMs, double Loss, long FramesSent, long FramesReceived,
    long Played, long Concealed, long Late, long Rejected, long Replayed, long Overflowed);

/// <summary>Told to the agent: a line the user typed (text, or /call PEER, /answer, /reject, /hangup).</summary>
public sealed record UserInput(string Line);
