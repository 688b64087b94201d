using System.Net;
using Actors.Calls.Protocol;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Calls.Transport;

/// <summary>
/// Limits of one framed connection. A dialled connection may be bound to
/// <paramref name="LocalAddress"/> first; <paramref name="ReusePort"/> lets it share that port with
/// other sockets that also carry the option (hole punching, see <see cref="Transport.ReusePort"/>).
/// </summary>
public sealed record FrameConnectionSettings(
    int MaxFrame = FrameCodec.DefaultMaxFrame,
    TimeSpan? IdleTimeout = null,
    int MaxQueuedFrames = 256,
    TimeSpan? ConnectTimeout = null,
    EndPoint? LocalAddress = null,
    bool ReusePort = false);

/// <summary>
/// Owns one TCP connection that carries call-protocol frames: decodes what arrives and tells its
/// owner, encodes what the owner sends with acked writes (at most two in flight, a bounded queue
/// behind them; media frames are dropped rather than queued without bound, control frames that
/// do not fit close the connection). A malformed or oversized frame closes this connection only.
/// The only place in Actors.Calls that touches <see cref="ByteString"/> for framed traffic.
/// </summary>
public sealed class FrameConnection : ReceiveActor, IWithTimers
{
    // ---- Commands -----------------------------------------------------------------------------
    public sealed record Send(CallMessage Message);
    /// <summary>Flush what is queued, then close.</summary>
    public sealed class Close { public static readonly Close Instance = new(); private Close() { } }
    /// <summary>From now on report to <paramref name="Owner"/> (a connection handed to the actor that needs it).</summary>
    public sealed record Rebind(IActorRef Owner);

    // ---- Events to the owner ------------------------------------------------------------------
    public sealed record Connected(IActorRef Connection, EndPoint Remote, EndPoint Local);
    public sealed record ConnectFailed(IActorRef Connection, string Reason);
    public sealed record Received(IActorRef Connection, CallMessage Message);
    public sealed record Closed(IActorRef Connection, string Reason);

    private const int MaxWritesInFlight = 2;
    private const int MaxWriteBytes = 64 * 1024;
    private sealed class WriteAck : Akka.IO.Tcp.Event { public static readonly WriteAck Instance = new(); }
    private sealed class IdleTimeout { public static readonly IdleTimeout Instance = new(); }
    private sealed class ConnectTimeout { public static readonly ConnectTimeout Instance = new(); }

    private readonly FrameConnectionSettings _settings;
    private readonly FrameDecoder _decoder;
    private readonly Queue<byte[]> _queue = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _owner;
    private IActorRef _tcp = ActorRefs.Nobody;
    private EndPoint _remote;
    private int _writesInFlight;
    private bool _closeWhenFlushed;
    private bool _reported;

    public ITimerScheduler Timers { get; set; } = null!;
    public long BytesSent { get; private set; }
    public long MediaDropped { get; private set; }

    /// <summary>For a connection accepted by a <see cref="TcpServer"/>.</summary>
    public static Props Accepted(IActorRef tcp, EndPoint remote, EndPoint local, IActorRef owner, FrameConnectionSettings settings) =>
        Props.Create(() => new FrameConnection(tcp, remote, local, owner, settings));

    /// <summary>Dials <paramref name="remote"/>; reports <see cref="Connected"/> or <see cref="ConnectFailed"/> to the owner (default: parent).</summary>
    public static Props Dial(EndPoint remote, FrameConnectionSettings settings, IActorRef? owner = null) =>
        Props.Create(() => new FrameConnection(remote, owner ?? ActorRefs.Nobody, settings));

    public FrameConnection(IActorRef tcp, EndPoint remote, EndPoint local, IActorRef owner, FrameConnectionSettings settings)
    {
        _settings = settings;
        _decoder = new FrameDecoder(settings.MaxFrame);
        _owner = owner;
        _tcp = tcp;
        _remote = remote;
        Context.Watch(_owner);
        _acceptedLocal = local;
    }

    public FrameConnection(EndPoint remote, IActorRef owner, FrameConnectionSettings settings)
    {
        _settings = settings;
        _decoder = new FrameDecoder(settings.MaxFrame);
        _owner = owner.IsNobody() ? Context.Parent : owner;
        _remote = remote;
        Context.Watch(_owner);
        _dialling = true;
        Dialling();
    }

    private readonly bool _dialling;
    private EndPoint? _acceptedLocal;

    protected override void PreStart()
    {
        if (!_dialling) { Attach(_acceptedLocal!); return; }
        var timeout = _settings.ConnectTimeout ?? TimeSpan.FromSeconds(5);
        Context.System.Tcp().Tell(new Akka.IO.Tcp.Connect(_remote, _settings.LocalAddress,
            _settings.ReusePort ? [Transport.ReusePort.Instance] : null, timeout));
        // Akka.IO's own connect timeout; ours backs it up, since a dropped SYN must never hang a call.
        Timers.StartSingleTimer(ConnectTimeout.Instance, ConnectTimeout.Instance, timeout + TimeSpan.FromSeconds(1));
    }

    private void Dialling()
    {
        Receive<Akka.IO.Tcp.Connected>(connected =>
        {
            Timers.Cancel(ConnectTimeout.Instance);
            _tcp = Sender;
            _remote = connected.RemoteAddress;
            Attach(connected.LocalAddress);
        });
        Receive<Akka.IO.Tcp.CommandFailed>(failed => FailConnect($"cannot connect to {Endpoints.Format(_remote)}: {failed.CauseString}"));
        Receive<ConnectTimeout>(_ => FailConnect($"cannot connect to {Endpoints.Format(_remote)}: timed out"));
        Receive<Send>(send => Enqueue(send.Message)); // queued until connected (bounded)
        Receive<Close>(_ => FailConnect("closed before connecting"));
        Receive<Rebind>(Rebinding);
        Receive<Terminated>(t => { if (t.ActorRef.Equals(_owner)) Context.Stop(Self); });
    }

    private void FailConnect(string reason)
    {
        if (!_reported) _owner.Tell(new ConnectFailed(Self, reason));
        _reported = true;
        Context.Stop(Self);
    }

    private void Attach(EndPoint local)
    {
        _tcp.Tell(new Akka.IO.Tcp.Register(Self, keepOpenOnPeerClosed: false, useResumeWriting: false));
        Context.Watch(_tcp);
        _owner.Tell(new Connected(Self, _remote, local));
        ArmIdle();
        Become(Open);
        FillWriteWindow();
    }

    private void Open()
    {
        Receive<Akka.IO.Tcp.Received>(received =>
        {
            ArmIdle();
            _decoder.Feed(received.Data.ToReadOnlySpan());
            while (true)
            {
                switch (_decoder.Next(out var message, out var error))
                {
                    case DecodeStatus.Message:
                        _owner.Tell(new Received(Self, message!));
                        continue;
                    case DecodeStatus.Error:
                        _log.Info("{0}: protocol error ({1}); closing this connection", Endpoints.Format(_remote), error);
                        Abort($"protocol error: {error}");
                        return;
                    default:
                        return;
                }
            }
        });
        Receive<Send>(send => { Enqueue(send.Message); FillWriteWindow(); });
        Receive<WriteAck>(_ =>
        {
            _writesInFlight--;
            FillWriteWindow();
            if (_closeWhenFlushed && _writesInFlight == 0 && _queue.Count == 0) _tcp.Tell(Akka.IO.Tcp.ConfirmedClose.Instance);
        });
        Receive<Close>(_ =>
        {
            _closeWhenFlushed = true;
            if (_writesInFlight == 0 && _queue.Count == 0) _tcp.Tell(Akka.IO.Tcp.ConfirmedClose.Instance);
        });
        Receive<Rebind>(Rebinding);
        Receive<IdleTimeout>(_ => Abort($"idle for {_settings.IdleTimeout}"));
        Receive<Akka.IO.Tcp.ConnectionClosed>(closed => Report(closed switch
        {
            Akka.IO.Tcp.PeerClosed => "closed by peer",
            Akka.IO.Tcp.ErrorClosed e => $"error: {e.Cause}",
            Akka.IO.Tcp.Aborted => "aborted",
            _ => "closed",
        }));
        Receive<Akka.IO.Tcp.CommandFailed>(failed => Abort($"write failed: {failed.CauseString}"));
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_owner)) { _tcp.Tell(Akka.IO.Tcp.Close.Instance); _reported = true; Context.Stop(Self); }
            else Report("connection actor stopped");
        });
    }

    private void Rebinding(Rebind rebind)
    {
        Context.Unwatch(_owner);
        _owner = rebind.Owner;
        Context.Watch(_owner);
    }

    private void Enqueue(CallMessage message)
    {
        byte[] frame;
        try { frame = FrameCodec.Encode(message, _settings.MaxFrame); }
        catch (ArgumentException ex) { _log.Warning("Not sending {0}: {1}", message.GetType().Name, ex.Message); return; }
        if (_queue.Count >= _settings.MaxQueuedFrames)
        {
            if (message is Media) { MediaDropped++; return; } // late audio is useless: drop it
            Abort("send queue full (peer not reading)");
            return;
        }
        _queue.Enqueue(frame);
    }

    private void FillWriteWindow()
    {
        if (_tcp.IsNobody()) return;
        while (_writesInFlight < MaxWritesInFlight && _queue.Count > 0)
        {
            // Coalesce small frames into one write; a fresh array each time (Akka.IO holds it until the ack).
            var size = 0;
            var count = 0;
            foreach (var f in _queue) { if (count > 0 && size + f.Length > MaxWriteBytes) break; size += f.Length; count++; }
            var bytes = new byte[size];
            var offset = 0;
            for (var i = 0; i < count; i++) { var f = _queue.Dequeue(); f.CopyTo(bytes, offset); offset += f.Length; }
            _writesInFlight++;
            BytesSent += size;
            _tcp.Tell(Akka.IO.Tcp.Write.Create(ByteString.FromBytes(bytes), WriteAck.Instance));
        }
    }

    private void Abort(string reason)
    {
        if (!_tcp.IsNobody()) _tcp.Tell(Akka.IO.Tcp.Abort.Instance);
        Report(reason);
    }

    private void Report(string reason)
    {
        if (!_reported) _owner.Tell(new Closed(Self, reason));
        _reported = true;
        Context.Stop(Self);
    }

    private void ArmIdle()
    {
        if (_settings.IdleTimeout is { } idle) Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, idle);
    }
}
