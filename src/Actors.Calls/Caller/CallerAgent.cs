using System.Net;
using Actors.Calls.Protocol;
using Actors.Calls.Transport;
using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;

namespace Actors.Calls.Caller;

/// <summary>
/// Root of the caller role (<c>caller</c>). Keeps the connection to the rendezvous (hello →
/// challenge → register → observed address and reachability; a ping every 10 s), optionally a
/// listener for direct and reverse connections (which also answers reachability probes), and at
/// most one <see cref="CallSession"/> at a time. Events go to the event stream (see Messages.cs).
/// </summary>
public sealed class CallerAgent : ReceiveActor, IWithTimers
{
    private sealed record Bound(int Port);
    private sealed class PingTick { public static readonly PingTick Instance = new(); }
    private sealed record PendingJoinExpired(string Token);
    private const int MaxPendingJoins = 8;
    private static readonly TimeSpan PendingJoinWait = TimeSpan.FromSeconds(5);

    private readonly CallerSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, IActorRef> _expected = new(StringComparer.Ordinal);
    // Joins that arrived before our own path instruction (the peer's instruction took a shorter way).
    private readonly Dictionary<string, (IActorRef Connection, Join Join)> _pendingJoins = new(StringComparer.Ordinal);
    private IActorRef _rendezvous = ActorRefs.Nobody;
    private int _listenPort;
    private string? _callId;
    private IActorRef _call = ActorRefs.Nobody;
    private Ring? _pendingRing;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CallerSettings settings) => Akka.Actor.Props.Create(() => new CallerAgent(settings));

    public CallerAgent(CallerSettings settings)
    {
        _settings = settings;
        Starting();
    }

    protected override void PreStart()
    {
        if (_settings.ListenPort is not { } port) { ConnectToRendezvous(); return; }
        var agent = Self; // captured now: the factory runs inside the listener
        var listener = Context.ActorOf(TcpServer.Props(new TcpServerSettings(_settings.ListenHost, port, 64),
            (tcp, remote, local) => FrameConnection.Accepted(tcp, remote, local, agent,
                new FrameConnectionSettings(IdleTimeout: TimeSpan.FromSeconds(15)))), "listener");
        listener.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, TimeSpan.FromSeconds(10))
            .PipeTo(Self, success: l => new Bound(((IPEndPoint)l.LocalAddress).Port));
    }

    // A --listen port that is taken ends the caller (FailurePolicy) instead of restarting the listener forever.
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy();

    private void ConnectToRendezvous()
    {
        var target = Endpoints.Parse(_settings.RendezvousHost, _settings.RendezvousPort);
        _rendezvous = Context.ActorOf(FrameConnection.Dial(target,
            new FrameConnectionSettings(MaxFrame: 4096, ConnectTimeout: _settings.ConnectTimeout, IdleTimeout: TimeSpan.FromSeconds(45))), "rendezvous");
    }

    // ---- Starting: listener, then rendezvous registration --------------------------------------

    private void Starting()
    {
        Receive<Bound>(bound => { _listenPort = bound.Port; ConnectToRendezvous(); });
        Receive<Status.Failure>(f => Stop($"cannot listen: {f.Cause.Message}"));
        Receive<FrameConnection.Connected>(c => c.Connection.Equals(_rendezvous), _ =>
            Signal(new Hello(FrameCodec.Version, $"actors-caller/{FrameCodec.Version}")));
        Receive<FrameConnection.ConnectFailed>(f => f.Connection.Equals(_rendezvous), f => Stop(f.Reason));
        FromRendezvous<Challenge>(challenge =>
            Signal(new Register(_settings.Id, CallAuth.Proof(_settings.Secret, challenge.Nonce, _settings.Id), (ushort)_listenPort)));
        FromRendezvous<Registered>(registered => _log.Info("Registered as {0}; the rendezvous sees us at {1}:{2}",
            registered.Id, registered.ObservedHost, registered.ObservedPort));
        FromRendezvous<ReachabilityResult>(reach =>
        {
            _log.Info("Reachable: {0} ({1}:{2})", reach.Reachable, reach.ProbedHost, reach.ProbedPort);
            Context.System.EventStream.Publish(new CallerRegistered(_settings.Id, reach.ProbedHost, reach.ProbedPort, reach.Reachable, _listenPort));
            Timers.StartPeriodicTimer(PingTick.Instance, PingTick.Instance, TimeSpan.FromSeconds(10));
            Become(Ready);
            if (_settings.Call is { } peer) PlaceCall(peer);
        });
        Common();
    }

    // ---- Ready: registered; placing, answering and carrying calls ------------------------------

    private void Ready()
    {
        Receive<PingTick>(_ => Signal(new Ping(DateTime.UtcNow.Ticks)));
        FromRendezvous<Pong>(_ => { });
        FromRendezvous<Ring>(OnRing);
        FromRendezvous<Connect>(connect =>
        {
            if (connect.CallId != _callId) return;
            // Expect the peer's Join before the session even sees the instruction: the peer got
            // its own instruction at the same moment and may already be dialling us.
            if (connect.Role == PathRole.Await) _expected[connect.Token] = _call;
            _call.Tell(new CallSession.PathInstruction(connect));
            if (connect.Role == PathRole.Await && _pendingJoins.Remove(connect.Token, out var early))
            {
                Timers.Cancel(new PendingJoinExpired(connect.Token));
                HandOver(early.Connection, early.Join);
            }
        });
        FromRendezvous<CallEnded>(ended =>
        {
            if (ended.CallId == _callId) _call.Tell(new CallSession.SignalEnded(ended.Outcome, ended.Detail));
            else if (_pendingRing?.CallId == ended.CallId) _pendingRing = null;
        });
        Receive<CallSession.SendSignal>(s => Signal(s.Message));
        Receive<CallSession.ExpectJoin>(e => _expected[e.Token] = e.Session);
        Receive<CallSession.Finished>(f =>
        {
            Context.System.EventStream.Publish(f.Summary);
            if (f.Summary.CallId == _callId) { _callId = null; _call = ActorRefs.Nobody; _expected.Clear(); }
        });
        Receive<UserInput>(OnUserInput);
        Common();
    }

    private void PlaceCall(string peer)
    {
        StartCall(CallAuth.RandomId(8), peer, isCaller: true);
        Signal(new PlaceCall(_callId!, peer));
    }

    private void OnRing(Ring ring)
    {
        Context.System.EventStream.Publish(new IncomingRing(ring.CallId, ring.Caller));
        if (_callId is not null) { Signal(new Reject(ring.CallId, "busy")); return; }
        if (_settings.AutoAnswer) { Answer(ring); return; }
        _pendingRing = ring;
        _log.Info("{0} is calling: type /answer or /reject", ring.Caller);
    }

    private void Answer(Ring ring)
    {
        _pendingRing = null;
        StartCall(ring.CallId, ring.Caller, isCaller: false);
        Signal(new Accept(ring.CallId));
    }

    private void StartCall(string callId, string peer, bool isCaller)
    {
        _callId = callId;
        _call = Context.ActorOf(CallSession.Props(callId, peer, isCaller, _settings, Self), $"call-{callId}");
    }

    private void OnUserInput(UserInput input)
    {
        var line = input.Line.Trim();
        if (line.StartsWith("/call ", StringComparison.Ordinal))
        {
            var peer = line["/call ".Length..].Trim();
            if (_callId is not null) _log.Warning("already in a call; /hangup first");
            else if (!CallAuth.IsValidId(peer)) _log.Warning("/call: not a valid id: {0}", peer);
            else PlaceCall(peer);
            return;
        }
        switch (line)
        {
            case "/answer" when _pendingRing is not null: Answer(_pendingRing); break;
            case "/reject" when _pendingRing is not null: Signal(new Reject(_pendingRing.CallId, "declined")); _pendingRing = null; break;
            case "/hangup" when _callId is not null: _call.Tell(CallSession.HangUpNow.Instance); break;
            case "": break;
            default: if (_callId is not null) _call.Tell(new CallSession.Say(input.Line)); break;
        }
    }

    // ---- Common: inbound connections, rendezvous loss ----------------------------------------------

    private void Common()
    {
        // Connections accepted by our listener: reachability probes and peers joining a call.
        Receive<FrameConnection.Connected>(_ => { });
        Receive<FrameConnection.Received>(r => !r.Connection.Equals(_rendezvous), r =>
        {
            switch (r.Message)
            {
                case Probe probe:
                    r.Connection.Tell(new FrameConnection.Send(new ProbeReply(probe.Nonce)));
                    r.Connection.Tell(FrameConnection.Close.Instance);
                    break;
                case Join join when _expected.ContainsKey(join.Token):
                    HandOver(r.Connection, join);
                    break;
                case Join join when _callId is not null && join.CallId == _callId && _pendingJoins.Count < MaxPendingJoins:
                    // Our instruction for this call may still be on its way: hold the connection briefly.
                    _pendingJoins[join.Token] = (r.Connection, join);
                    Timers.StartSingleTimer(new PendingJoinExpired(join.Token), new PendingJoinExpired(join.Token), PendingJoinWait);
                    break;
                default:
                    r.Connection.Tell(new FrameConnection.Send(new Refused(RefusalCode.UnknownToken, "not expecting this connection")));
                    r.Connection.Tell(FrameConnection.Close.Instance);
                    break;
            }
        });
        Receive<PendingJoinExpired>(expired =>
        {
            if (!_pendingJoins.Remove(expired.Token, out var early)) return;
            early.Connection.Tell(new FrameConnection.Send(new Refused(RefusalCode.UnknownToken, "not expecting this connection")));
            early.Connection.Tell(FrameConnection.Close.Instance);
        });
        FromRendezvous<Refused>(refused => Stop($"refused by the rendezvous: {refused.Reason}"));
        FromRendezvous<Displaced>(displaced => Stop($"displaced: {displaced.Reason}"));
        Receive<FrameConnection.Closed>(c => c.Connection.Equals(_rendezvous), c => Stop($"rendezvous connection lost: {c.Reason}"));
        Receive<FrameConnection.Closed>(_ => { });
        Receive<CallSession.Finished>(f => Context.System.EventStream.Publish(f.Summary));
        ReceiveAny(_ => { });
    }

    private void HandOver(IActorRef connection, Join join)
    {
        if (!_expected.Remove(join.Token, out var session)) return;
        connection.Tell(new FrameConnection.Rebind(session));
        session.Tell(new CallSession.InboundJoined(connection, join));
    }

    private void FromRendezvous<T>(Action<T> handler) where T : CallMessage =>
        Receive<FrameConnection.Received>(r => r.Connection.Equals(_rendezvous) && r.Message is T, r => handler((T)r.Message));

    private void Signal(CallMessage message) => _rendezvous.Tell(new FrameConnection.Send(message));

    private void Stop(string reason)
    {
        _log.Warning("{0}: {1}", _settings.Id, reason);
        if (_callId is not null) _call.Tell(new CallSession.SignalEnded(CallOutcome.Failed, reason));
        Context.System.EventStream.Publish(new CallerStopped(_settings.Id, reason));
        Become(() =>
        {
            Receive<CallSession.Finished>(f => Context.System.EventStream.Publish(f.Summary));
            ReceiveAny(_ => { });
        });
        // Give an active call a moment to report, then stop.
        Timers.StartSingleTimer("stop", PoisonPill.Instance, TimeSpan.FromMilliseconds(300));
    }

}
