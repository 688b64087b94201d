using Actors.Calls.Telemetry;
using Actors.Net.Telemetry;
using System.Net;
using Actors.Calls.Protocol;
using Actors.Calls.Reachability;
using Actors.Calls.Relay;
using Actors.Calls.Transport;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Actors.Calls.Rendezvous;

/// <summary>
/// The calls of one session: those its client places (this session owns them: ring, answer, path
/// choice, relay allocation, re-path) and those it receives (accept, reject, the owner's session
/// gone), and the rule of who may steer a call.
/// </summary>
public sealed partial class RendezvousSession
{
    // ---- Calls this client places -----------------------------------------------------------

    private void OnPlaceCall(PlaceCall place)
    {
        if (!TakeCallToken())
        {
            Send(new CallEnded(place.CallId, CallOutcome.RateLimited, "too many calls; try again later"));
            return;
        }
        if (place.CallId.Length is 0 or > 64 || _owned.ContainsKey(place.CallId) || _joined.ContainsKey(place.CallId))
        {
            Send(new CallEnded(place.CallId, CallOutcome.Failed, "bad or duplicate call id"));
            return;
        }
        if (place.Callee == _id)
        {
            Send(new CallEnded(place.CallId, CallOutcome.Failed, "cannot call yourself"));
            return;
        }
        _owned[place.CallId] = new OwnedCall(place.CallId, place.Callee);
        Timers.StartSingleTimer(new RingTimeout(place.CallId), new RingTimeout(place.CallId), _settings.RingTimeout);
        _presence.Tell(new PresenceDirectory.Lookup(place.Callee, place.CallId));
    }

    private void OnLookupResult(PresenceDirectory.LookupResult result)
    {
        var callId = (string)result.Context;
        if (!_owned.TryGetValue(callId, out var call)) return;
        if (result.Entry is null)
        {
            _owned.Remove(callId);
            Timers.Cancel(new RingTimeout(callId));
            Send(new CallEnded(callId, CallOutcome.Offline, $"{call.Callee} is not registered"));
            return;
        }
        call.CalleePath = result.Entry.SessionPath;
        TellCallee(call, new IncomingCall(callId, _id, Self));
    }

    private void OnCallAnswered(CallAnswered answer)
    {
        if (!IsCalleeOf(answer.CallId, nameof(CallAnswered)) || !_owned.TryGetValue(answer.CallId, out var call) || call.Answer is not null) return;
        Timers.Cancel(new RingTimeout(answer.CallId));
        call.Answer = answer;
        Context.Watch(answer.CalleeSession);
        var me = _entry;
        var bothV2 = _settings.HolePunch && CanPunch && answer.CalleeCanPunch && me is not null && answer.CalleeObservedPort > 0;
        if (bothV2) OfferUdp(call, me!, answer);
        if (answer.CalleeReachable)
        {
            // Direct: the callee can be dialled, so the caller dials it.
            var token = CallAuth.RandomId();
            IssuePath(call, PathKind.Direct, token,
                toCaller: new Connect(call.CallId, PathKind.Direct, PathRole.Dial, answer.CalleeHost, (ushort)answer.CalleeListenPort, token),
                toCallee: new Connect(call.CallId, PathKind.Direct, PathRole.Await, "", 0, token));
        }
        else if (me is { Reachable: true })
        {
            // Reverse: only the caller can be dialled, so the callee connects back.
            var token = CallAuth.RandomId();
            IssuePath(call, PathKind.Reverse, token,
                toCaller: new Connect(call.CallId, PathKind.Reverse, PathRole.Await, "", 0, token),
                toCallee: new Connect(call.CallId, PathKind.Reverse, PathRole.Dial, me.ObservedHost, (ushort)me.ListenPort, token));
        }
        else if (bothV2)
        {
            IssuePunch(call, me!, answer);
        }
        else
        {
            _relays.Tell(new RelayDirectory.PickRelay(call.CallId, call.FailedRelays));
        }
    }

    private void OnRelayPicked(RelayDirectory.RelayPicked picked)
    {
        if (!_owned.TryGetValue(picked.CallId, out var call)) return;
        call.RelayNode = picked.Relay.NodeAddress;
        var node = picked.Relay.NodeAddress;
        var callId = picked.CallId;
        Context.ActorSelection(picked.Relay.ServicePath)
            .Ask<object>(new AllocateSession(callId), _settings.AllocateTimeout)
            .PipeTo(Self, failure: ex => new AllocationFailed(callId, node, ex is AskTimeoutException ? "no answer" : ex.Message));
    }

    private void OnSessionAllocated(SessionAllocated allocated)
    {
        if (!_owned.TryGetValue(allocated.CallId, out var call)) return;
        call.RelayNode = allocated.NodeAddress;
        IssuePath(call, PathKind.Relay, null,
            toCaller: new Connect(call.CallId, PathKind.Relay, PathRole.Dial, allocated.Host, (ushort)allocated.Port, allocated.CallerToken),
            toCallee: new Connect(call.CallId, PathKind.Relay, PathRole.Dial, allocated.Host, (ushort)allocated.Port, allocated.CalleeToken));
    }

    private void IssuePath(OwnedCall call, PathKind path, string? token, Connect toCaller, Connect toCallee)
    {
        call.Path = path;
        call.Repathing = false;
        call.Tokens.Clear();
        call.Tokens.Add(toCaller.Token);
        call.Tokens.Add(toCallee.Token);
        _log.Info("Call {0} {1} → {2}: path {3}{4}", call.CallId, _id, call.Callee, path,
            path == PathKind.Relay ? $" via {toCaller.Host}:{toCaller.Port}" : "");
        Send(toCaller);
        call.Answer!.CalleeSession.Tell(new PathChosen(call.CallId, toCallee));
        CallsMetrics.PathIssued(path); Context.System.EventStream.Publish(new RoleEvent("call-placed", $"call {call.CallId} {_id} → {call.Callee}: {path}"));
    }

    private void OnPathLost(PathLost lost)
    {
        if (_joined.TryGetValue(lost.CallId, out var owner)) owner.Tell(new PathBroken(lost.CallId, lost.Token));
        else Repath(lost.CallId, lost.Token);
    }

    /// <summary>A path broke (its relay died, a NAT dropped it): carry on through a relay not yet tried.</summary>
    private void Repath(string callId, string token)
    {
        if (!_owned.TryGetValue(callId, out var call) || call.Answer is null || call.Repathing || !call.Tokens.Contains(token)) return;
        _log.Info("Call {0}: path {1} broke; re-establishing through a relay", callId, call.Path);
        call.Repathing = true;
        if (call.RelayNode is not null) call.FailedRelays.Add(call.RelayNode);
        _relays.Tell(new RelayDirectory.PickRelay(callId, call.FailedRelays));
    }

    private void FailCall(string callId, string detail)
    {
        if (!_owned.Remove(callId, out var call)) return;
        Timers.Cancel(new RingTimeout(callId));
        TellCallee(call, new CallClosed(callId, CallOutcome.Failed, detail));
        Send(new CallEnded(callId, CallOutcome.Failed, detail));
    }

    private void TellCallee(OwnedCall call, object message)
    {
        if (call.Answer is not null) call.Answer.CalleeSession.Tell(message);
        else if (call.CalleePath is not null) Context.ActorSelection(call.CalleePath).Tell(message);
    }

    // ---- Calls this client receives ---------------------------------------------------------

    private void OnIncomingCall(IncomingCall incoming)
    {
        if (_joined.TryGetValue(incoming.CallId, out var owner) && owner.Equals(Sender)) return; // the same ring again
        if (_joined.ContainsKey(incoming.CallId) || _owned.ContainsKey(incoming.CallId))
        {
            // Call ids come from clients: someone else's id must not join (and later end) a call
            // this client is in. The newcomer is refused; the call in progress is untouched.
            _log.Warning("{0}: refused a call from {1} reusing call id {2}, which belongs to another call", _id, incoming.CallerId, incoming.CallId);
            Sender.Tell(new CallDeclined(incoming.CallId, CallOutcome.Failed, "call id already in use"));
            return;
        }
        _joined[incoming.CallId] = incoming.CallerSession;
        Context.Watch(incoming.CallerSession);
        Send(new Ring(incoming.CallId, incoming.CallerId));
    }

    private void OnAccept(Accept accept)
    {
        if (!_joined.TryGetValue(accept.CallId, out var owner)) return;
        var me = _entry;
        owner.Tell(new CallAnswered(accept.CallId, _id, me?.ObservedHost ?? ObservedHost, me?.ListenPort ?? 0, me?.Reachable ?? false, Self,
            _remote.Port, CanPunch, _rttMs ?? 0));
    }

    private void OnReject(Reject reject)
    {
        if (_joined.Remove(reject.CallId, out var owner))
            owner.Tell(new CallDeclined(reject.CallId, CallOutcome.Rejected, $"{_id} rejected: {reject.Reason}"));
    }

    private void EndByClient(string callId, CallOutcome outcome, string detail)
    {
        if (_owned.Remove(callId, out var call))
        {
            Timers.Cancel(new RingTimeout(callId));
            TellCallee(call, new CallClosed(callId, outcome, detail));
            Send(new CallEnded(callId, outcome, detail));
        }
        else if (_joined.Remove(callId, out var owner))
        {
            _joinedWithPath.Remove(callId);
            owner.Tell(new CallClosed(callId, outcome, detail));
            Send(new CallEnded(callId, outcome, detail));
        }
    }

    /// <summary>
    /// The other party's session is gone (its client disconnected, or its node died). A call still
    /// being set up ends; a call with a path goes on over its media connection, and we only forget
    /// it (it can no longer be re-pathed through the rendezvous).
    /// </summary>
    private void OnCounterpartTerminated(Terminated terminated)
    {
        foreach (var call in _owned.Values.Where(c => c.Answer?.CalleeSession.Equals(terminated.ActorRef) == true).ToList())
        {
            _owned.Remove(call.CallId);
            if (HasPath(call)) _log.Info("Call {0}: {1}'s session is gone; the call goes on without signalling", call.CallId, call.Callee);
            else Send(new CallEnded(call.CallId, CallOutcome.Failed, $"{call.Callee} disconnected"));
        }
        foreach (var (callId, _) in _joined.Where(kv => kv.Value.Equals(terminated.ActorRef)).ToList())
        {
            var hadPath = _joinedWithPath.Contains(callId);
            ForgetJoined(callId);
            if (hadPath) _log.Info("Call {0}: the caller's session is gone; the call goes on without signalling", callId);
            else Send(new CallEnded(callId, CallOutcome.Failed, "the caller disconnected"));
        }
    }

    /// <summary>Path issued and not being replaced: the two clients talk without the rendezvous.</summary>
    private static bool HasPath(OwnedCall call) => call.Path is not null && !call.Repathing;

    private void ForgetJoined(string callId)
    {
        _joined.Remove(callId);
        _joinedWithPath.Remove(callId);
    }

    // ---- Who may steer a call -----------------------------------------------------------------
    // Sessions trust only the session of the other party for messages about a call: the owner's
    // session for a call this client joined, the callee's session for a call it placed. A message
    // naming the call id from anyone else is ignored and logged (see PROTOCOL.md, "Who may steer a call").

    /// <summary>The sender is the session that placed the call <paramref name="callId"/> that this client joined.</summary>
    private bool IsOwnerOf(string callId, string what)
    {
        if (_joined.TryGetValue(callId, out var owner) && owner.Equals(Sender)) return true;
        Ignored(callId, what);
        return false;
    }

    /// <summary>The sender is the callee's session of the call <paramref name="callId"/> that this client placed.</summary>
    private bool IsCalleeOf(string callId, string what)
    {
        if (_owned.TryGetValue(callId, out var call))
        {
            // Before the answer only the callee's presence path is known; after it, its actor ref.
            if (call.Answer is { } answer ? answer.CalleeSession.Equals(Sender)
                : call.CalleePath is not null && call.CalleePath == Akka.Serialization.Serialization.SerializedActorPath(Sender)) return true;
        }
        Ignored(callId, what);
        return false;
    }

    private void Ignored(string callId, string what)
    {
        if (_owned.ContainsKey(callId) || _joined.ContainsKey(callId))
            _log.Warning("{0}: ignored {1} for call {2} from {3}, which is not the other party of that call", _id, what, callId, Sender.Path);
    }
}
