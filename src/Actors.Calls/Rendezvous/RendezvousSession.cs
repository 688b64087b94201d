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
/// One caller's connection to this rendezvous node. States: AwaitingHello → AwaitingRegister →
/// Registered. Once registered it relays signalling between its client and the sessions of the
/// callers it talks to (on any node). For calls its client places it is the owner: it rings the
/// callee's session, decides the path on answer (direct / reverse / relay), allocates relay
/// sessions, re-paths through another relay when a path breaks, and times out unanswered rings.
/// </summary>
public sealed partial class RendezvousSession : ReceiveActor, IWithTimers
{
    private sealed class RegisterTimeout { public static readonly RegisterTimeout Instance = new(); }
    private sealed record RingTimeout(string CallId);
    private sealed record AllocationFailed(string CallId, string NodeAddress, string Reason);
    private sealed record RetryPick(string CallId);
    private const int MaxNoRelayRetries = 3;

    /// <summary>A call this session's client placed.</summary>
    private sealed class OwnedCall(string callId, string callee)
    {
        public string CallId { get; } = callId;
        public string Callee { get; } = callee;
        public string? CalleePath { get; set; }
        public CallAnswered? Answer { get; set; }
        public PathKind? Path { get; set; }
        public HashSet<string> Tokens { get; } = [];
        public string? RelayNode { get; set; }
        public List<string> FailedRelays { get; } = [];
        public bool Repathing { get; set; }
        public int NoRelayRetries { get; set; }
    }

    private readonly IActorRef _tcp;
    private readonly IPEndPoint _remote;
    private readonly EndPoint _local;
    private readonly RendezvousSettings _settings;
    private readonly IActorRef _presence;
    private readonly IActorRef _relays;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, OwnedCall> _owned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IActorRef> _joined = new(StringComparer.Ordinal);
    // Joined calls that were given a path: their media flows without us, so they outlive either session.
    private readonly HashSet<string> _joinedWithPath = new(StringComparer.Ordinal);
    private readonly byte[] _nonce = CallAuth.NewNonce();
    private IActorRef _connection = ActorRefs.Nobody;
    private string _id = "";
    private PresenceEntry? _entry;
    private double _callTokens;
    // Protocol version of the client (from Hello) and the round trip to it (version 2 answers our Pings).
    private ushort _version;
    private double? _rttMs;
    private DateTime _lastRefill = DateTime.UtcNow;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef tcp, EndPoint remote, EndPoint local, RendezvousSettings settings, IActorRef presence, IActorRef relays) =>
        Akka.Actor.Props.Create(() => new RendezvousSession(tcp, remote, local, settings, presence, relays));

    public RendezvousSession(IActorRef tcp, EndPoint remote, EndPoint local, RendezvousSettings settings, IActorRef presence, IActorRef relays)
    {
        _tcp = tcp;
        _remote = remote as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        _local = local;
        _settings = settings;
        _presence = presence;
        _relays = relays;
        _callTokens = settings.CallBurst;
        AwaitingHello();
    }

    private string ObservedHost => Endpoints.Normalize(_remote.Address).ToString();
    private string SelfPath => Akka.Serialization.Serialization.SerializedActorPath(Self);

    protected override void PreStart()
    {
        _connection = Context.ActorOf(FrameConnection.Accepted(_tcp, _remote, _local, Self,
            new FrameConnectionSettings(MaxFrame: 4096, IdleTimeout: _settings.IdleTimeout)), "frames");
        Context.Watch(_connection);
        Timers.StartSingleTimer(RegisterTimeout.Instance, RegisterTimeout.Instance, _settings.RegisterTimeout);
    }

    protected override void PostStop()
    {
        // A call with a path lives on its media connection: our client may be reconnecting (to us or
        // another node) while it goes on, so only calls still being set up end with this session.
        foreach (var call in _owned.Values.Where(c => !HasPath(c))) TellCallee(call, new CallClosed(call.CallId, CallOutcome.Failed, $"{_id} disconnected"));
        foreach (var (callId, owner) in _joined.Where(kv => !_joinedWithPath.Contains(kv.Key))) owner.Tell(new CallClosed(callId, CallOutcome.Failed, $"{_id} disconnected"));
        if (_entry is not null) _presence.Tell(new PresenceDirectory.Withdraw(_id, _entry.SessionPath));
        if (_id.Length > 0) CallsMetrics.RegisteredCallers.Add(-1);
    }

    // ---- State: AwaitingHello / AwaitingRegister ----------------------------------------------

    private void AwaitingHello()
    {
        Receive<FrameConnection.Received>(r => r.Message is Hello, r =>
        {
            var hello = (Hello)r.Message;
            if (hello.Version is < FrameCodec.MinVersion or > FrameCodec.Version)
            {
                Refuse(RefusalCode.BadVersion, $"protocol version {hello.Version} not supported (this server speaks {FrameCodec.MinVersion}–{FrameCodec.Version})");
                return;
            }
            _version = hello.Version;
            Send(new Challenge(_nonce));
            Become(AwaitingRegister);
        });
        Common();
    }

    private void AwaitingRegister()
    {
        Receive<FrameConnection.Received>(r => r.Message is Register, r =>
        {
            var register = (Register)r.Message;
            if (!CallAuth.IsValidId(register.Id) || !_settings.Users.TryGetSecret(register.Id, out var secret)
                || !CallAuth.Verify(secret, _nonce, register.Id, register.Proof))
            {
                _log.Warning("{0}: refused registration as '{1}' (unknown identity or wrong proof)", Endpoints.Format(_remote), register.Id);
                Refuse(RefusalCode.AuthFailed, "unknown identity or wrong proof");
                return;
            }
            _id = register.Id;
            Timers.Cancel(RegisterTimeout.Instance);
            Send(new Registered(_id, ObservedHost, (ushort)_remote.Port));
            _log.Info("{0} registered from {1}", _id, Endpoints.Format(_remote));
            CallsMetrics.RegisteredCallers.Add(1);
            if (register.ListenPort == 0) ReachabilityKnown(new ReachabilityProbe.ProbeResult(false, ObservedHost, 0, "no listen port advertised"));
            else Context.ActorOf(ReachabilityProbe.Props(ObservedHost, register.ListenPort, _settings.ProbeTimeout), "probe");
            Become(Registered);
        });
        Common();
    }

    // ---- State: Registered ------------------------------------------------------------------

    private void Registered()
    {
        Receive<ReachabilityProbe.ProbeResult>(ReachabilityKnown);
        Receive<FrameConnection.Received>(r => r.Message is Ping, r => Send(new Pong(((Ping)r.Message).Nonce)));
        // Version 2 clients answer our pings: the round trip times the two sides of a hole punch.
        Receive<FrameConnection.Received>(r => r.Message is Pong && CanPunch, r => OnPong((Pong)r.Message));
        Receive<RttTick>(_ => Send(new Ping(System.Diagnostics.Stopwatch.GetTimestamp())));
        Receive<FrameConnection.Received>(r => r.Message is PlaceCall, r => OnPlaceCall((PlaceCall)r.Message));
        Receive<FrameConnection.Received>(r => r.Message is Accept, r => OnAccept((Accept)r.Message));
        Receive<FrameConnection.Received>(r => r.Message is Reject, r => OnReject((Reject)r.Message));
        Receive<FrameConnection.Received>(r => r.Message is Cancel, r => EndByClient(((Cancel)r.Message).CallId, CallOutcome.Cancelled, $"{_id} cancelled"));
        Receive<FrameConnection.Received>(r => r.Message is HangUp, r => EndByClient(((HangUp)r.Message).CallId, CallOutcome.HungUp, $"{_id} hung up"));
        Receive<FrameConnection.Received>(r => r.Message is PathLost, r => OnPathLost((PathLost)r.Message));
        Receive<PresenceDirectory.LookupResult>(OnLookupResult);
        Receive<IncomingCall>(OnIncomingCall);
        Receive<CallAnswered>(OnCallAnswered);
        Receive<CallDeclined>(declined =>
        {
            if (!IsCalleeOf(declined.CallId, nameof(CallDeclined))) return;
            _owned.Remove(declined.CallId);
            Timers.Cancel(new RingTimeout(declined.CallId));
            Send(new CallEnded(declined.CallId, declined.Outcome, declined.Detail));
        });
        Receive<PathChosen>(chosen =>
        {
            if (!IsOwnerOf(chosen.CallId, nameof(PathChosen))) return;
            _joinedWithPath.Add(chosen.CallId);
            Send(chosen.Instruction);
        });
        Receive<UdpOffered>(offered =>
        {
            if (IsOwnerOf(offered.CallId, nameof(UdpOffered))) Send(offered.Offer);
        });
        Receive<PunchChosen>(chosen =>
        {
            if (!IsOwnerOf(chosen.CallId, nameof(PunchChosen))) return;
            _joinedWithPath.Add(chosen.CallId);
            Send(chosen.Instruction);
        });
        Receive<CallClosed>(closed =>
        {
            if (_joined.ContainsKey(closed.CallId) ? !IsOwnerOf(closed.CallId, nameof(CallClosed)) : !IsCalleeOf(closed.CallId, nameof(CallClosed))) return;
            ForgetJoined(closed.CallId);
            _owned.Remove(closed.CallId);
            Timers.Cancel(new RingTimeout(closed.CallId));
            Send(new CallEnded(closed.CallId, closed.Outcome, closed.Detail));
        });
        Receive<PathBroken>(broken => { if (IsCalleeOf(broken.CallId, nameof(PathBroken))) Repath(broken.CallId, broken.Token); });
        Receive<RingTimeout>(timeout =>
        {
            if (!_owned.Remove(timeout.CallId, out var call)) return;
            var detail = $"{call.Callee} did not answer within {_settings.RingTimeout.TotalSeconds:0.#}s";
            TellCallee(call, new CallClosed(call.CallId, CallOutcome.NoAnswer, detail));
            Send(new CallEnded(call.CallId, CallOutcome.NoAnswer, detail));
        });
        Receive<RelayDirectory.RelayPicked>(OnRelayPicked);
        Receive<RelayDirectory.NoRelay>(none =>
        {
            // Relay load spreads by gossip: a relay that just joined (or a moment of doubt about
            // one) is worth a short wait before the call is given up.
            if (_owned.TryGetValue(none.CallId, out var call) && call.NoRelayRetries++ < MaxNoRelayRetries)
                Timers.StartSingleTimer(new RetryPick(none.CallId), new RetryPick(none.CallId), TimeSpan.FromSeconds(1));
            else FailCall(none.CallId, "no relay available");
        });
        Receive<RetryPick>(retry =>
        {
            if (_owned.TryGetValue(retry.CallId, out var call)) _relays.Tell(new RelayDirectory.PickRelay(retry.CallId, call.FailedRelays));
        });
        Receive<SessionAllocated>(OnSessionAllocated);
        Receive<AllocationRefused>(refused => RelayRefused(refused.CallId, refused.Reason));
        Receive<AllocationFailed>(failed =>
        {
            if (!_owned.TryGetValue(failed.CallId, out var call)) return;
            _log.Warning("Relay {0} could not allocate a session for {1}: {2}", failed.NodeAddress, failed.CallId, failed.Reason);
            call.FailedRelays.Add(failed.NodeAddress);
            if (call.FailedRelays.Count >= 3) FailCall(call.CallId, $"relays failed: {failed.Reason}");
            else _relays.Tell(new RelayDirectory.PickRelay(call.CallId, call.FailedRelays));
        });
        Receive<PresenceDirectory.Displace>(displace =>
        {
            _log.Info("{0}: displaced by a newer registration", _id);
            _entry = null; // the newer entry is not ours to withdraw
            Send(new Displaced(displace.Reason));
            _connection.Tell(FrameConnection.Close.Instance);
        });
        Receive<Terminated>(t => t.ActorRef.Equals(_connection), _ => Context.Stop(Self));
        Receive<Terminated>(OnCounterpartTerminated);
        Common();
    }

    private void RelayRefused(string callId, string reason) =>
        Self.Tell(new AllocationFailed(callId, _owned.TryGetValue(callId, out var c) ? c.RelayNode ?? "?" : "?", reason));

    private void ReachabilityKnown(ReachabilityProbe.ProbeResult result)
    {
        _log.Info("{0} is {1} at {2}:{3} ({4})", _id, result.Reachable ? "reachable" : "not reachable", result.Host, result.Port, result.Detail);
        _entry = new PresenceEntry(_id, SelfPath, Cluster.Get(Context.System).SelfAddress.ToString(), ObservedHost,
            result.Port, result.Reachable, DateTime.UtcNow.Ticks);
        _presence.Tell(new PresenceDirectory.Announce(_entry, Self));
        Send(new ReachabilityResult(result.Reachable, result.Host, (ushort)result.Port));
        if (CanPunch)
        {
            Send(new Ping(System.Diagnostics.Stopwatch.GetTimestamp()));
            Timers.StartPeriodicTimer(RttTick.Instance, RttTick.Instance, RttInterval);
        }
    }

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

    // ---- Common -----------------------------------------------------------------------------

    private void Common()
    {
        Receive<FrameConnection.Connected>(_ => { });
        Receive<FrameConnection.Closed>(closed =>
        {
            _log.Debug("{0} ({1}): {2}", _id.Length > 0 ? _id : "unregistered", Endpoints.Format(_remote), closed.Reason);
            Context.Stop(Self);
        });
        Receive<RegisterTimeout>(_ => Refuse(RefusalCode.Protocol, $"no registration within {_settings.RegisterTimeout}"));
        Receive<FrameConnection.Received>(r => Refuse(RefusalCode.Protocol, $"unexpected {r.Message.GetType().Name}"));
        Receive<Terminated>(t => { if (t.ActorRef.Equals(_connection)) Context.Stop(Self); });
        ReceiveAny(m => _log.Debug("{0}: ignoring {1}", _id, m.GetType().Name));
    }

    private void Refuse(RefusalCode code, string reason)
    {
        Send(new Refused(code, reason));
        _connection.Tell(FrameConnection.Close.Instance);
        Become(() =>
        {
            Receive<Terminated>(_ => Context.Stop(Self));
            Receive<FrameConnection.Closed>(_ => Context.Stop(Self));
            ReceiveAny(_ => { });
        });
    }

    private void Send(CallMessage message) => _connection.Tell(new FrameConnection.Send(message));

    private bool TakeCallToken()
    {
        var now = DateTime.UtcNow;
        _callTokens = Math.Min(_settings.CallBurst, _callTokens + (now - _lastRefill) / _settings.CallRefill);
        _lastRefill = now;
        if (_callTokens < 1) return false;
        _callTokens -= 1;
        return true;
    }
}
