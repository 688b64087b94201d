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

/// <summary>The one-line report at the end of a call (printed as JSON by the CLI).</summary>
public sealed record CallSummary(
    string Id, string Peer, string CallId, string Role, string Result, string Detail,
    string? Path, double? SetupMs, double? RttMs, double? JitterMs, double Loss,
    long FramesSent, long FramesReceived, long BytesSent, long BytesReceived,
    int TextsReceived, int PathChanges, double DurationS);

/// <summary>Told to the agent: a line the user typed (text, or /call PEER, /answer, /reject, /hangup).</summary>
public sealed record UserInput(string Line);
