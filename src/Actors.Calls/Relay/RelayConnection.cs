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
/// claims the token from the <see cref="RelayServer"/>, and once the other side has joined answers
/// <c>Joined</c> and pipes raw bytes to its peer connection actor. Back-pressure: the socket is in
/// pull mode (one <c>Received</c> per <c>ResumeReading</c>) and the next read is only requested
/// while fewer than <see cref="MaxChunksInFlight"/> chunks read from it wait for the peer's socket
/// to acknowledge them. Nothing else is buffered. Quotas: bytes per direction, session duration, idle time.
/// </summary>
public sealed class RelayConnection : ReceiveActor, IWithTimers
{
    private const int MaxChunksInFlight = 2;
    private const int MaxPendingWrites = MaxChunksInFlight; // pull mode: never more than that

    /// <summary>Peer → this: write these bytes to your socket, then answer <see cref="ChunkWritten"/>.</summary>
    private sealed record Chunk(ByteString Data);
    private sealed class ChunkWritten { public static readonly ChunkWritten Instance = new(); }
    private sealed class WriteAck : Tcp.Event { public static readonly WriteAck Instance = new(); }
    /// <summary>The ack of our own <c>Joined</c> frame: not a peer's chunk, so it frees no slot of the peer's window.</summary>
    private sealed class JoinedAck : Tcp.Event { public static readonly JoinedAck Instance = new(); }
    private sealed class JoinTimeout { public static readonly JoinTimeout Instance = new(); }
    private sealed class IdleTimeout { public static readonly IdleTimeout Instance = new(); }
    private sealed class DurationLimit { public static readonly DurationLimit Instance = new(); }

    private readonly IActorRef _tcp;
    private readonly EndPoint _remote;
    private readonly RelaySettings _settings;
    private readonly IActorRef _server;
    private readonly FrameDecoder _decoder = new(1024);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<ByteString> _pendingWrites = new();
    private IActorRef _peer = ActorRefs.Nobody;
    private ByteString _early = ByteString.Empty;
    private bool _writing;
    private int _chunksAtPeer;
    private bool _readRequested;
    private long _bytesIn;
    private long _lastActivity; // Stopwatch timestamp of the last byte either way

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
                    _server.Tell(new RelayServer.Claim(join.CallId, join.Token));
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
            Context.Watch(_peer);
            _writing = true;
            _tcp.Tell(Tcp.Write.Create(ByteString.FromBytes(FrameCodec.Encode(new Joined(paired.CallId))), JoinedAck.Instance));
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
        Receive<Chunk>(chunk =>
        {
            _lastActivity = Stopwatch.GetTimestamp();
            if (_writing)
            {
                if (_pendingWrites.Count >= MaxPendingWrites) { Close("peer outran back-pressure", abort: true); return; }
                _pendingWrites.Enqueue(chunk.Data);
            }
            else Write(chunk.Data);
        });
        Receive<WriteAck>(_ =>
        {
            _peer.Tell(ChunkWritten.Instance);
            WriteNext();
        });
        Receive<JoinedAck>(_ => WriteNext());
        Receive<ChunkWritten>(_ =>
        {
            _chunksAtPeer--;
            if (_chunksAtPeer < MaxChunksInFlight) ReadMore();
        });
        Receive<IdleTimeout>(_ =>
        {
            if (Stopwatch.GetElapsedTime(_lastActivity) >= _settings.IdleTimeout) Close($"idle for {_settings.IdleTimeout}", abort: true);
        });
        Receive<DurationLimit>(_ => Close($"session reached its {_settings.MaxDuration} limit", abort: false));
        // The peer's last chunks are in our mailbox before its Terminated: write them all, then close.
        Receive<Terminated>(t => t.ActorRef.Equals(_peer), _ =>
        {
            _peer = ActorRefs.Nobody;
            if (!_writing && _pendingWrites.Count == 0) Close("the other side left", abort: false);
            else Become(Draining);
        });
        ConnectionEvents();
    }

    /// <summary>
    /// The other side has gone; what it sent before leaving (at most the window) is still being
    /// written to this socket. Close once the last write is acknowledged. Nothing is read any more.
    /// A reader that never takes those bytes is cut off by the idle check.
    /// </summary>
    private void Draining()
    {
        Receive<WriteAck>(_ => DrainNext());
        Receive<JoinedAck>(_ => DrainNext());
        Receive<Tcp.Received>(_ => _readRequested = false); // the peer is gone: drop what this side still says
        Receive<IdleTimeout>(_ =>
        {
            if (Stopwatch.GetElapsedTime(_lastActivity) >= _settings.IdleTimeout) Close($"idle for {_settings.IdleTimeout} while flushing", abort: true);
        });
        Receive<DurationLimit>(_ => Close($"session reached its {_settings.MaxDuration} limit", abort: true));
        ConnectionEvents();
    }

    private void DrainNext()
    {
        _lastActivity = Stopwatch.GetTimestamp();
        _writing = false;
        if (_pendingWrites.Count > 0) Write(_pendingWrites.Dequeue());
        else Close("the other side left", abort: false);
    }

    private void WriteNext()
    {
        _writing = false;
        if (_pendingWrites.Count > 0) Write(_pendingWrites.Dequeue());
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
        _peer.Tell(new Chunk(data));
        _chunksAtPeer++;
    }

    private void Write(ByteString data)
    {
        _writing = true;
        _tcp.Tell(Tcp.Write.Create(data, WriteAck.Instance));
    }

    private void RefuseAndClose(RefusalCode code, string reason)
    {
        _tcp.Tell(Tcp.Write.Create(ByteString.FromBytes(FrameCodec.Encode(new Refused(code, reason)))));
        _tcp.Tell(Tcp.Close.Instance);
        Become(Closing);
    }

    private void Close(string reason, bool abort)
    {
        _log.Info("{0}: closing relayed connection ({1})", Endpoints.Format(_remote), reason);
        _tcp.Tell(abort ? Tcp.Abort.Instance : Tcp.Close.Instance);
        Become(Closing);
    }

    private void Closing()
    {
        Receive<Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        Receive<Terminated>(t => { if (t.ActorRef.Equals(_tcp)) Context.Stop(Self); });
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
