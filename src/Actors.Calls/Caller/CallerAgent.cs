using System.Diagnostics;
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
/// States: Registering → Ready ⇄ Reconnecting. A rendezvous lost after the first registration is
/// dialled again after an exponential backoff with jitter, the next address of the list each
/// time; a call whose media path is up goes on meanwhile (the media connection does not depend on
/// the rendezvous connection). Before the first registration each address is tried once.
/// </summary>
public sealed class CallerAgent : ReceiveActor, IWithTimers
{
    private sealed record Bound(int Port);
    private sealed class PingTick { public static readonly PingTick Instance = new(); }
    private sealed class ReconnectTick { public static readonly ReconnectTick Instance = new(); }
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
    private bool _callHasPath; // the rendezvous gave the current call a path: it can live without the rendezvous
    private readonly Backoff _backoff;
    private int _nextRendezvous;
    private int _dials;
    private bool _ready;
    private bool _registeredOnce;
    private int _failedBeforeFirstRegistration;
    private long? _lostAt; // Stopwatch timestamp: when the rendezvous was lost (null while registered)
    private int _rendezvousLocalPort; // the local port of the rendezvous connection: hole punches leave from it

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CallerSettings settings) => Akka.Actor.Props.Create(() => new CallerAgent(settings));

    public CallerAgent(CallerSettings settings)
    {
        _settings = settings;
        _backoff = new Backoff(settings.BackoffMin, settings.BackoffMax, new Random());
        Registering();
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

    /// <summary>Dials the next rendezvous address of the list (round robin).</summary>
    private void ConnectToRendezvous()
    {
        var (host, port) = _settings.Rendezvous[_nextRendezvous++ % _settings.Rendezvous.Count];
        // A fresh name per dial: the previous connection actor may still be stopping. Bound (to a
        // port the OS picks) with SO_REUSEADDR/SO_REUSEPORT so a hole punch can leave from the same
        // port, whose NAT mapping the rendezvous observed.
        _rendezvous = Context.ActorOf(FrameConnection.Dial(Endpoints.Parse(host, port),
            new FrameConnectionSettings(MaxFrame: 4096, ConnectTimeout: _settings.ConnectTimeout, IdleTimeout: TimeSpan.FromSeconds(45),
                LocalAddress: _settings.HolePunch ? new IPEndPoint(IPAddress.IPv6Any, 0) : null, ReusePort: _settings.HolePunch)), $"rendezvous-{++_dials}");
    }

    // ---- Registering: listener, then rendezvous registration (first time or again) --------------

    private void Registering()
    {
        Receive<Bound>(bound => { _listenPort = bound.Port; ConnectToRendezvous(); });
        Receive<Status.Failure>(f => Stop($"cannot listen: {f.Cause.Message}"));
        Receive<FrameConnection.Connected>(c => c.Connection.Equals(_rendezvous), c =>
        {
            _rendezvousLocalPort = (c.Local as IPEndPoint)?.Port ?? 0;
            // Without hole punching we speak version 1: the rendezvous then never asks us to punch.
            var version = _settings.HolePunch ? FrameCodec.Version : FrameCodec.MinVersion;
            Signal(new Hello(version, $"actors-caller/{version}"));
        });
        Receive<FrameConnection.ConnectFailed>(f => f.Connection.Equals(_rendezvous), f => RendezvousLost(f.Reason));
        FromRendezvous<Challenge>(challenge =>
            Signal(new Register(_settings.Id, CallAuth.Proof(_settings.Secret, challenge.Nonce, _settings.Id), (ushort)_listenPort)));
        FromRendezvous<Registered>(registered => _log.Info("Registered as {0}; the rendezvous sees us at {1}:{2}",
            registered.Id, registered.ObservedHost, registered.ObservedPort));
        FromRendezvous<ReachabilityResult>(reach =>
        {
            _log.Info("Reachable: {0} ({1}:{2})", reach.Reachable, reach.ProbedHost, reach.ProbedPort);
            Context.System.EventStream.Publish(new CallerRegistered(_settings.Id, reach.ProbedHost, reach.ProbedPort, reach.Reachable, _listenPort));
            Timers.StartPeriodicTimer(PingTick.Instance, PingTick.Instance, TimeSpan.FromSeconds(10));
            _backoff.Reset();
            _lostAt = null;
            _ready = true;
            var first = !_registeredOnce;
            _registeredOnce = true;
            Become(Ready);
            if (first && _settings.Call is { } peer) PlaceCall(peer);
        });
        CallHandlers();
        Common();
    }

    // ---- Reconnecting: waiting out the backoff before dialling a rendezvous again ----------------

    private void Reconnecting()
    {
        Receive<ReconnectTick>(_ =>
        {
            ConnectToRendezvous();
            Become(Registering);
        });
        CallHandlers();
        Common();
    }

    private void RendezvousLost(string reason)
    {
        _ready = false;
        _pendingRing = null; // its ring lived in the lost session
        Timers.Cancel(PingTick.Instance);
        if (!_registeredOnce)
        {
            // Never registered: try each address once, then give up (a wrong address fails fast).
            if (++_failedBeforeFirstRegistration >= _settings.Rendezvous.Count) { Stop(reason); return; }
            _log.Info("{0}: {1}; trying the next rendezvous", _settings.Id, reason);
            ConnectToRendezvous();
            Become(Registering);
            return;
        }
        // A call still being set up needs its rendezvous session, which is gone; a call with a path does not.
        if (_callId is not null && !_callHasPath) _call.Tell(new CallSession.SignalEnded(CallOutcome.Failed, $"rendezvous connection lost while setting up the call: {reason}"));
        _lostAt ??= Stopwatch.GetTimestamp();
        var lostFor = Stopwatch.GetElapsedTime(_lostAt.Value);
        if (lostFor >= _settings.RetryFor && _callId is null)
        {
            Stop($"no rendezvous would take us back for {lostFor.TotalSeconds:0}s (last: {reason})");
            return;
        }
        var delay = _backoff.Next();
        _log.Warning("{0}: rendezvous connection lost ({1}); reconnecting in {2} ms", _settings.Id, reason, (int)delay.TotalMilliseconds);
        Context.System.EventStream.Publish(new RendezvousConnectionLost(_settings.Id, reason, delay));
        Timers.StartSingleTimer(ReconnectTick.Instance, ReconnectTick.Instance, delay);
        Become(Reconnecting);
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
            _callHasPath = true;
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
        FromRendezvous<Punch>(punch =>
        {
            if (punch.CallId != _callId) return;
            _callHasPath = true;
            _call.Tell(new CallSession.PathInstruction(new Connect(punch.CallId, PathKind.HolePunch, punch.Role, punch.Host, punch.Port, punch.Token),
                new CallSession.PunchPlan(_rendezvousLocalPort, TimeSpan.FromMilliseconds(punch.DelayMs), Math.Max((int)punch.Attempts, 1),
                    TimeSpan.FromMilliseconds(Math.Max((int)punch.AttemptMs, 100)))));
        });
        FromRendezvous<UdpOffer>(offer =>
        {
            if (offer.CallId == _callId) _call.Tell(new CallSession.UdpOffered(offer, _rendezvousLocalPort));
        });
        FromRendezvous<CallEnded>(ended =>
        {
            if (ended.CallId == _callId) _call.Tell(new CallSession.SignalEnded(ended.Outcome, ended.Detail));
            else if (_pendingRing?.CallId == ended.CallId) _pendingRing = null;
        });
        CallHandlers();
        Common();
    }

    /// <summary>What the current call needs in every state, registered or not.</summary>
    private void CallHandlers()
    {
        Receive<CallSession.SendSignal>(s =>
        {
            // Without a rendezvous a HangUp or PathLost has nobody to go to: the peer learns of a
            // hang-up by the Bye on the media connection, and a broken path ends the call after the grace.
            if (_ready) Signal(s.Message);
            else _log.Info("{0}: no rendezvous right now; {1} not sent", _settings.Id, s.Message.GetType().Name);
        });
        Receive<CallSession.ExpectJoin>(e => _expected[e.Token] = e.Session);
        Receive<CallSession.Finished>(f =>
        {
            Context.System.EventStream.Publish(f.Summary);
            if (f.Summary.CallId == _callId) { _callId = null; _call = ActorRefs.Nobody; _callHasPath = false; _expected.Clear(); }
        });
        Receive<UserInput>(OnUserInput);
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
        _callHasPath = false;
        _call = Context.ActorOf(CallSession.Props(callId, peer, isCaller, _settings, Self), $"call-{callId}");
    }

    private void OnUserInput(UserInput input)
    {
        var line = input.Line.Trim();
        if (line.StartsWith("/call ", StringComparison.Ordinal))
        {
            var peer = line["/call ".Length..].Trim();
            if (_callId is not null) _log.Warning("already in a call; /hangup first");
            else if (!_ready) _log.Warning("/call: not registered at a rendezvous right now; try again in a moment");
            else if (!CallAuth.IsValidId(peer)) _log.Warning("/call: not a valid id: {0}", peer);
            else PlaceCall(peer);
            return;
        }
        switch (line)
        {
            case "/answer" when _pendingRing is not null && _ready: Answer(_pendingRing); break;
            case "/reject" when _pendingRing is not null && _ready: Signal(new Reject(_pendingRing.CallId, "declined")); _pendingRing = null; break;
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
        // Version 2: the rendezvous times its round trip to us (for the hole-punch timing).
        FromRendezvous<Ping>(ping => Signal(new Pong(ping.Nonce)));
        FromRendezvous<Refused>(refused => Stop($"refused by the rendezvous: {refused.Reason}"));
        FromRendezvous<Displaced>(displaced => Stop($"displaced: {displaced.Reason}"));
        Receive<FrameConnection.Closed>(c => c.Connection.Equals(_rendezvous), c => RendezvousLost($"rendezvous connection lost: {c.Reason}"));
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
        Timers.StartSingleTimer("stop", PoisonPill.Instance, TimeSpan.FromMilliseconds(_callId is null ? 300 : 1200));
    }

}
