namespace Actors.Calls.Protocol;

/// <summary>Every frame of the call protocol decodes to one of these (see PROTOCOL.md for the table).</summary>
public abstract record CallMessage;

/// <summary>Why a request was refused; the connection is usually closed right after.</summary>
public enum RefusalCode : byte
{
    BadVersion = 1,
    AuthFailed = 2,
    UnknownToken = 3,
    TokenUsed = 4,
    Busy = 5,
    Quota = 6,
    Protocol = 7,
}

/// <summary>How a call ended (or never started).</summary>
public enum CallOutcome : byte
{
    HungUp = 1,
    Rejected = 2,
    NoAnswer = 3,
    Offline = 4,
    RateLimited = 5,
    Cancelled = 6,
    Failed = 7,
}

/// <summary>
/// The path a call takes: caller dials callee, callee dials caller back, both dial a relay, or
/// both dial each other at once through their NATs (TCP simultaneous open; protocol version 2).
/// </summary>
public enum PathKind : byte { Direct = 1, Reverse = 2, Relay = 3, HolePunch = 4 }

/// <summary>What the receiver of a <see cref="Connect"/> instruction does: dial Host:Port, or wait to be dialled.</summary>
public enum PathRole : byte { Dial = 1, Await = 2 }

// ---- Session set-up -----------------------------------------------------------------------
public sealed record Hello(ushort Version, string Agent) : CallMessage;
public sealed record Challenge(byte[] Nonce) : CallMessage;
public sealed record Register(string Id, byte[] Proof, ushort ListenPort) : CallMessage;
public sealed record Registered(string Id, string ObservedHost, ushort ObservedPort) : CallMessage;
public sealed record ReachabilityResult(bool Reachable, string ProbedHost, ushort ProbedPort) : CallMessage;
public sealed record Refused(RefusalCode Code, string Reason) : CallMessage;
public sealed record Displaced(string Reason) : CallMessage;

// ---- Call signalling (caller/callee <-> rendezvous) ---------------------------------------
public sealed record PlaceCall(string CallId, string Callee) : CallMessage;
public sealed record Ring(string CallId, string Caller) : CallMessage;
public sealed record Accept(string CallId) : CallMessage;
public sealed record Reject(string CallId, string Reason) : CallMessage;
public sealed record Cancel(string CallId) : CallMessage;
public sealed record HangUp(string CallId, string Reason) : CallMessage;
public sealed record CallEnded(string CallId, CallOutcome Outcome, string Detail) : CallMessage;
/// <summary>Path instruction: how this side reaches the other for <paramref name="CallId"/>.</summary>
public sealed record Connect(string CallId, PathKind Path, PathRole Role, string Host, ushort Port, string Token) : CallMessage;
/// <summary>
/// Version 2 path instruction: dial the peer's observed <paramref name="Host"/>:<paramref name="Port"/>
/// from the local port of this side's rendezvous connection, <paramref name="Attempts"/> times,
/// each bounded by <paramref name="AttemptMs"/>, the first after <paramref name="DelayMs"/> (so both
/// sides dial at the same moment). Dial sends Join on the punched connection; Await expects it.
/// </summary>
public sealed record Punch(string CallId, PathRole Role, string Host, ushort Port, string Token, ushort DelayMs, byte Attempts, ushort AttemptMs) : CallMessage;
/// <summary>
/// Version 2: the call's UDP media key (32 random bytes, fresh per call) and where to send
/// datagrams (the peer's observed host and the port of its rendezvous connection); this side signs
/// its datagrams as <paramref name="Sender"/>. Sent to both sides of a call between two version-2 callers.
/// </summary>
public sealed record UdpOffer(string CallId, byte[] Key, string Host, ushort Port, UdpSender Sender) : CallMessage;
/// <summary>The media connection of a call broke (e.g. its relay died); asks for a new path.</summary>
public sealed record PathLost(string CallId, string Token) : CallMessage;

// ---- Liveness ------------------------------------------------------------------------------
public sealed record Ping(long Nonce) : CallMessage;
public sealed record Pong(long Nonce) : CallMessage;

// ---- Media connection (caller <-> callee, or caller <-> relay) -----------------------------
public sealed record Join(string CallId, string Token, string Id) : CallMessage;
public sealed record Joined(string CallId) : CallMessage;
public sealed record Probe(byte[] Nonce) : CallMessage;
public sealed record ProbeReply(byte[] Nonce) : CallMessage;
public sealed record Media(uint Seq, long TimestampMicros, byte[] Payload) : CallMessage;
public sealed record Text(string Body) : CallMessage;
public sealed record Bye(string Reason) : CallMessage;
