using Actors.Calls.Telemetry;
using System.Diagnostics;
using System.Net;
using Actors.Calls.Protocol;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Calls.Relay;

/// <summary>
/// One caller's connection to the relay. It reads exactly one frame, <c>Join(call, token, id)</c>,
/// claims the token from the <see cref="RelayServer"/>, and once the other side has joined writes
/// <c>Joined</c> and then every byte it reads **straight to the other side's socket** (its Akka.IO
/// connection actor, learnt from <see cref="RelayServer.Paired"/>): the write's ack comes back here,
/// to the actor that wrote, so a chunk costs four messages (read, write, ack, next read) and the
/// other side's actor is not on the path at all. Each side therefore writes the other's
/// <c>Joined</c>, which keeps it ahead of the bytes that follow on that socket.
/// <para>
/// Back-pressure: the socket is in pull mode (one <c>Received</c> per <c>ResumeReading</c>) and the
/// next read is only requested while fewer than <see cref="MaxChunksInFlight"/> chunks read from it
/// wait for the other socket's ack. Nothing is buffered here. Quotas: bytes per direction, session
/// duration, idle time (idle means no byte either way: a side whose own direction is quiet asks the
/// other side before it closes, since a one-way stream only moves the writer's clock).
/// </para>
/// <para>
/// When one side leaves, the other closes its socket with <c>Close</c>: Akka.IO writes what it
/// still holds (the chunks the leaving side wrote before it left) and then closes; a reader that
/// never takes them is aborted after the idle timeout.
/// </para>
/// </summary>
public sealed class RelayConnection : ReceiveActor, IWithTimers
{
    private const int MaxChunksInFlight = 2;

    // Acks and activity questions may reach a side that has just left (the other socket acks what
    // it wrote before leaving): expected, so not logged as dead letters.
    private sealed class WriteAck : Tcp.Event, IDeadLetterSuppression { public static readonly WriteAck Instance = new(); }
    /// <summary>The ack of the <c>Joined</c> frame written to the other socket: not a chunk, so it frees no slot of the window.</summary>
    private sealed class JoinedAck : Tcp.Event, IDeadLetterSuppression { public static readonly JoinedAck Instance = new(); }
    private sealed class JoinTimeout { public static readonly JoinTimeout Instance = new(); }
    private sealed class IdleTimeout { public static readonly IdleTimeout Instance = new(); }
    private sealed class DurationLimit { public static readonly DurationLimit Instance = new(); }
    /// <summary>This side is idle: when did the other side last move a byte? Answered with <see cref="LastActivity"/>.</summary>
    private sealed class AskLastActivity : IDeadLetterSuppression { public static readonly AskLastActivity Instance = new(); }
    private sealed record LastActivity(long Timestamp) : IDeadLetterSuppression;

    private readonly IActorRef _tcp;
    private readonly EndPoint _remote;
    private readonly RelaySettings _settings;
    private readonly IActorRef _server;
    private readonly FrameDecoder _decoder = new(1024);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _peer = ActorRefs.Nobody;
    private IActorRef _peerSocket = ActorRefs.Nobody;
    private ByteString _early = ByteString.Empty;
    private int _chunksAtPeer;
    private bool _readRequested;
    private long _bytesIn;
    private long _lastActivity; // Stopwatch timestamp of the last byte read here or acked by the other socket
    private long _closingSince; // Stopwatch timestamp of the Close or Abort sent to our socket

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef tcp, EndPoint remote, EndPoint local, RelaySettings settings, IActorRef server) =>
        Akka.Actor.Props.Create(() => new RelayConnection(tcp, remote, settings, server));

    public RelayConnection(IActorRef tcp, EndPoint remote, RelaySettings settings, IActorRef server)
    {
        _tcp = tcp;
        _remote = remote;
        _settings = settings;
        _server = server;
        AwaitingJoin();
    }

    protected override void PreStart()
    {
        _tcp.Tell(new Tcp.Register(Self, keepOpenOnPeerClosed: false, useResumeWriting: false));
        Context.Watch(_tcp);
        ReadMore();
        Timers.StartSingleTimer(JoinTimeout.Instance, JoinTimeout.Instance, _settings.JoinTimeout);
    }

    private void AwaitingJoin()
    {
        Receive<Tcp.Received>(received =>
        {
            _readRequested = false;
            _decoder.Feed(received.Data.ToReadOnlySpan());
            switch (_decoder.Next(out var message, out var error))
            {
                case DecodeStatus.NeedMore:
                    ReadMore();
                    return;
                case DecodeStatus.Message when message is Join join:
                    Timers.Cancel(JoinTimeout.Instance);
                    _early = ByteString.FromBytes(_decoder.TakeRemaining());
                    _server.Tell(new RelayServer.Claim(join.CallId, join.Token, _tcp));
                    Become(AwaitingPeer);
                    return;
                default:
                    RefuseAndClose(RefusalCode.Protocol, error ?? $"expected Join, got {message!.GetType().Name}");
                    return;
            }
        });
        Receive<JoinTimeout>(_ => RefuseAndClose(RefusalCode.Protocol, $"no Join within {_settings.JoinTimeout}"));
        ConnectionEvents();
    }

    private void AwaitingPeer()
    {
        Receive<RelayServer.ClaimRefused>(refused =>
        {
            _log.Info("{0}: {1}", Endpoints.Format(_remote), refused.Reason);
            RefuseAndClose(refused.Code, refused.Reason);
        });
        Receive<RelayServer.Paired>(paired =>
        {
            _peer = paired.Peer;
            _peerSocket = paired.PeerSocket;
            Context.Watch(_peer);
            // The other side's Joined, written here so that it goes out before our bytes on that socket.
            _peerSocket.Tell(Tcp.Write.Create(ByteString.FromBytes(FrameCodec.Encode(new Joined(paired.CallId))), JoinedAck.Instance));
            Timers.StartSingleTimer(DurationLimit.Instance, DurationLimit.Instance, _settings.MaxDuration);
            StartIdleCheck();
            Become(Piping);
            if (!_early.IsEmpty) Forward(_early);
            _early = ByteString.Empty;
            if (_chunksAtPeer < MaxChunksInFlight) ReadMore();
        });
        ConnectionEvents();
    }

    private void Piping()
    {
        Receive<Tcp.Received>(received =>
        {
            _readRequested = false;
            Forward(received.Data);
            if (_chunksAtPeer < MaxChunksInFlight) ReadMore();
        });
        Receive<WriteAck>(_ =>
        {
            _lastActivity = Stopwatch.GetTimestamp();
            _chunksAtPeer--;
            if (_chunksAtPeer < MaxChunksInFlight) ReadMore();
        });
        Receive<JoinedAck>(_ => { });
        Receive<IdleTimeout>(_ =>
        {
            // Quiet this way: the other way may still flow (its clock is the other side's).
            if (Stopwatch.GetElapsedTime(_lastActivity) >= _settings.IdleTimeout) _peer.Tell(AskLastActivity.Instance);
        });
        Receive<AskLastActivity>(_ => Sender.Tell(new LastActivity(_lastActivity)));
        Receive<LastActivity>(other =>
        {
            _lastActivity = Math.Max(_lastActivity, other.Timestamp);
            if (Stopwatch.GetElapsedTime(_lastActivity) >= _settings.IdleTimeout) Close($"idle for {_settings.IdleTimeout}", abort: true);
        });
        Receive<DurationLimit>(_ => Close($"session reached its {_settings.MaxDuration} limit", abort: false));
        // The other side's last chunks were handed to our socket before it stopped: Close lets
        // Akka.IO write them first.
        Receive<Terminated>(t => t.ActorRef.Equals(_peer), _ =>
        {
            _peer = ActorRefs.Nobody;
            Close("the other side left", abort: false);
        });
        // A write to the other socket refused: that side is closing; its Terminated follows.
        Receive<Tcp.CommandFailed>(_ => Sender.Equals(_peerSocket), _ => { });
        ConnectionEvents();
    }

    private void Forward(ByteString data)
    {
        _lastActivity = Stopwatch.GetTimestamp();
        _bytesIn += data.Count;
        CallsMetrics.RelayedBytes.Add(data.Count);
        if (_bytesIn > _settings.MaxBytesPerDirection)
        {
            Close($"byte quota of {_settings.MaxBytesPerDirection} reached", abort: true);
            return;
        }
        _peerSocket.Tell(Tcp.Write.Create(data, WriteAck.Instance));
        _chunksAtPeer++;
    }

    private void RefuseAndClose(RefusalCode code, string reason)
    {
        _tcp.Tell(Tcp.Write.Create(ByteString.FromBytes(FrameCodec.Encode(new Refused(code, reason)))));
        BeginClosing(Tcp.Close.Instance);
    }

    private void Close(string reason, bool abort)
    {
        _log.Info("{0}: closing relayed connection ({1})", Endpoints.Format(_remote), reason);
        BeginClosing(abort ? Tcp.Abort.Instance : Tcp.Close.Instance);
    }

    private void BeginClosing(Tcp.CloseCommand command)
    {
        _tcp.Tell(command);
        _closingSince = Stopwatch.GetTimestamp();
        Become(Closing);
    }

    /// <summary>
    /// Our socket was told to close; wait for Akka.IO's ConnectionClosed. A <c>Close</c> first writes
    /// what the socket still holds (after the other side left: the chunks it handed over before
    /// leaving); a reader that never takes them is aborted once the idle timeout has passed since
    /// the close began. Nothing is read any more.
    /// </summary>
    private void Closing()
    {
        Receive<Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        Receive<Terminated>(t => { if (t.ActorRef.Equals(_tcp)) Context.Stop(Self); });
        Receive<IdleTimeout>(_ =>
        {
            if (Stopwatch.GetElapsedTime(_closingSince) < _settings.IdleTimeout) return;
            _log.Info("{0}: aborting relayed connection (not closed {1} after the close began)", Endpoints.Format(_remote), _settings.IdleTimeout);
            _tcp.Tell(Tcp.Abort.Instance);
        });
        ReceiveAny(_ => { });
    }

    private void ConnectionEvents()
    {
        Receive<Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        Receive<Tcp.CommandFailed>(failed => { _log.Debug("{0}: {1}", Endpoints.Format(_remote), failed.CauseString); Context.Stop(Self); });
        Receive<Terminated>(t => { if (t.ActorRef.Equals(_tcp)) Context.Stop(Self); });
        ReceiveAny(_ => { });
    }

    /// <summary>
    /// Idle detection by a periodic check of the last activity (a quarter of the timeout, at most
    /// 1 s), not by re-arming a timer per chunk: at thousands of small frames a second the
    /// re-arming cost more than the piping.
    /// </summary>
    private void StartIdleCheck()
    {
        _lastActivity = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromTicks(Math.Clamp(_settings.IdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        Timers.StartPeriodicTimer(IdleTimeout.Instance, IdleTimeout.Instance, interval);
    }

    /// <summary>Pull mode: ask the socket for exactly one more <c>Received</c>.</summary>
    private void ReadMore()
    {
        if (_readRequested) return;
        _readRequested = true;
        _tcp.Tell(Tcp.ResumeReading.Instance);
    }
}
