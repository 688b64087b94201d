using Actors.Calls.Serialization;
using Actors.Calls.Protocol;
using Akka.Actor;

namespace Actors.Calls.Rendezvous;

// Between rendezvous sessions, possibly on different nodes. The caller's session owns the call:
// it rings the callee's session, decides the path when answered, and enforces the ring timeout.

/// <summary>Caller's session → callee's session: ring your client.</summary>
public sealed record IncomingCall(string CallId, string CallerId, IActorRef CallerSession) : ICallsClusterMessage;
/// <summary>
/// Callee's session → caller's session: the callee accepted; here is how to reach it. The last three
/// (added with protocol version 2; absent from older nodes, hence their defaults) serve hole punching:
/// the port the rendezvous saw the callee's connection come from, whether the callee can punch, and
/// the round trip between the callee and its rendezvous node.
/// </summary>
public sealed record CallAnswered(string CallId, string CalleeId, string CalleeHost, int CalleeListenPort, bool CalleeReachable, IActorRef CalleeSession,
    int CalleeObservedPort = 0, bool CalleeCanPunch = false, double CalleeRttMs = 0) : ICallsClusterMessage;
/// <summary>Callee's session → caller's session: the call will not happen (rejected, busy).</summary>
public sealed record CallDeclined(string CallId, CallOutcome Outcome, string Detail) : ICallsClusterMessage;
/// <summary>Caller's session → callee's session: pass this path instruction to your client.</summary>
public sealed record PathChosen(string CallId, Connect Instruction) : ICallsClusterMessage;
/// <summary>Caller's session → callee's session: pass this hole-punch instruction to your client.</summary>
public sealed record PunchChosen(string CallId, Punch Instruction) : ICallsClusterMessage;
/// <summary>Caller's session → callee's session: pass this UDP media offer (key, caller's address) to your client.</summary>
public sealed record UdpOffered(string CallId, UdpOffer Offer) : ICallsClusterMessage;
/// <summary>Either session → the other: the call is over (hang-up, cancel, timeout, disconnect).</summary>
public sealed record CallClosed(string CallId, CallOutcome Outcome, string Detail) : ICallsClusterMessage;
/// <summary>Callee's session → caller's session: the callee's media path broke (token names which path).</summary>
public sealed record PathBroken(string CallId, string Token) : ICallsClusterMessage;
