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
