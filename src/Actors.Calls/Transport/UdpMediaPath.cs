using System.Diagnostics;
using System.Net;
using Actors.Calls.Protocol;
using Actors.Net.Tcp;
using Actors.Net.Udp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Calls.Transport;

/// <summary>
/// A call's UDP media path (protocol version 2): owns one UDP socket, bound to the same port number
/// as the caller's rendezvous connection (a port-preserving NAT such as MASQUERADE then maps it to
/// the port the rendezvous observed over TCP, which is where the peer sends). Both sides send
/// authenticated Hello datagrams every 100 ms to the peer's observed address until a datagram of
/// the peer's authenticates — the UDP hole punch — then report <see cref="Up"/>; from then on the
/// peer's address is the source of its last authenticated datagram (it may differ from the
/// guess: a symmetric NAT facing a public host). While up it pings the peer every 250 ms: no
/// datagram from the peer, or no Pong to our pings (the peer hears nothing of ours: a one-way
/// path), for <see cref="SilenceLimit"/> reports <see cref="Down"/> and probing starts again — so a
/// side never keeps sending into a path only the other direction of which works. Forged, malformed and replayed datagrams are
/// counted and dropped (<see cref="UdpMediaCodec"/>, <see cref="ReplayWindow"/>). Sends are not
/// acked: a send while Akka.IO still holds the previous one is refused and counted as dropped,
/// so nothing queues (late audio is useless).
/// </summary>
public sealed class UdpMediaPath : ReceiveActor, IWithTimers
{
    // ---- Commands from the owner ----------------------------------------------------------------
    public sealed record SendMedia(uint Seq, long TimestampMicros, byte[] Payload);
    public sealed record SendPing(long Nonce);

    // ---- Events to the owner ----------------------------------------------------------------------
    public sealed record Up(EndPoint Peer);
    public sealed record Down(string Reason);
    /// <summary>No authenticated datagram arrived during the whole probing time: UDP does not get through.</summary>
    public sealed record Unavailable(string Reason);
    public sealed record MediaReceived(uint Seq, long TimestampMicros, byte[] Payload);
    public sealed record PongReceived(long Nonce);
    /// <param name="Overflowed">Datagrams dropped unread: <c>max-queued-datagrams</c> were already waiting for this actor (a flood).</param>
    public sealed record Counters(long Rejected, long Replayed, long SendsDropped, long Overflowed);
    public sealed class GetCounters { public static readonly GetCounters Instance = new(); private GetCounters() { } }

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan SilenceLimit = TimeSpan.FromMilliseconds(1500);
    private const int MaxProbes = 50; // 5 s of probing per attempt

    private sealed class ProbeTick { public static readonly ProbeTick Instance = new(); }
    private sealed class SilenceCheck { public static readonly SilenceCheck Instance = new(); }

    private readonly UdpMediaCodec _codec;
    private readonly ReplayWindow _window = new();
    private readonly UdpSender _me;
    private readonly UdpSender _peerRole;
    private readonly int _localPort;
    private readonly IActorRef _owner;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private EndPoint _peer;
    private IActorRef _socket = ActorRefs.Nobody;
    private uint _number;
    private int _probes;
    private bool _up;
    private long _lastHeard, _lastPong;
    private long _rejected, _replayed, _sendsDropped;
    private Counters _reported = new(0, 0, 0, 0);
    private readonly DatagramQueue? _queue = DatagramMailbox.QueueOf(Context);

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// On <see cref="DatagramMailbox"/>: anyone may send to the media port, so at most
    /// <c>max-queued-datagrams</c> wait and a flood beyond that is dropped and counted (frames are
    /// late by then anyway). Call <see cref="DatagramMailbox.Ensure"/> before creating it.
    /// </summary>
    public static Props Props(byte[] key, UdpSender me, IPEndPoint peer, int localPort) =>
        DatagramMailbox.Select(Akka.Actor.Props.Create(() => new UdpMediaPath(key, me, peer, localPort)));

    public UdpMediaPath(byte[] key, UdpSender me, IPEndPoint peer, int localPort)
    {
        _codec = new UdpMediaCodec(key);
        _me = me;
        _peerRole = me == UdpSender.Caller ? UdpSender.Callee : UdpSender.Caller;
        _peer = peer;
        _localPort = localPort;
        _owner = Context.Parent;
        Binding();
    }

    protected override void PreStart() =>
        Context.System.Udp().Tell(new Udp.Bind(Self, new IPEndPoint(IPAddress.Any, _localPort), [new Inet.SO.ReuseAddress(true)]));

    protected override void PostStop()
    {
        if (!_socket.IsNobody()) _socket.Tell(Udp.Unbind.Instance);
    }

    private void Binding()
    {
        Receive<Udp.Bound>(_ =>
        {
            _socket = Sender;
            Context.Watch(_socket);
            Timers.StartPeriodicTimer(ProbeTick.Instance, ProbeTick.Instance, ProbeInterval);
            Timers.StartPeriodicTimer(SilenceCheck.Instance, SilenceCheck.Instance, TimeSpan.FromMilliseconds(250));
            Probe();
            Become(Open);
        });
        Receive<Udp.CommandFailed>(failed =>
        {
            _owner.Tell(new Unavailable($"cannot bind UDP port {_localPort} ({failed.Cmd.GetType().Name} failed)"));
            Context.Stop(Self);
        });
        Receive<GetCounters>(_ => Sender.Tell(Current()));
        ReceiveAny(_ => { }); // nothing to send on before the socket is bound
    }

    private void Open()
    {
        Receive<Udp.Received>(OnDatagram);
        Receive<ProbeTick>(_ => Probe());
        Receive<SilenceCheck>(_ =>
        {
            // Counters go to the owner when they change, at most every 250 ms (a flood costs no messages).
            var counters = Current();
            if (counters != _reported) { _reported = counters; _owner.Tell(counters); }
            if (!_up) return;
            var heard = Stopwatch.GetElapsedTime(_lastHeard) < SilenceLimit;
            var answered = Stopwatch.GetElapsedTime(_lastPong) < SilenceLimit;
            if (heard && answered)
            {
                Send(new UdpDatagram(UdpKind.Ping, _me, 0, 0, Stopwatch.GetTimestamp(), []));
                return;
            }
            _up = false;
            _probes = 0;
            _owner.Tell(new Down(heard ? $"no answer to our pings for {SilenceLimit.TotalMilliseconds:0} ms" : $"no datagram for {SilenceLimit.TotalMilliseconds:0} ms"));
            Timers.StartPeriodicTimer(ProbeTick.Instance, ProbeTick.Instance, ProbeInterval);
        });
        Receive<SendMedia>(m => Send(new UdpDatagram(UdpKind.Media, _me, 0, m.Seq, m.TimestampMicros, m.Payload)));
        Receive<SendPing>(p => Send(new UdpDatagram(UdpKind.Ping, _me, 0, 0, p.Nonce, [])));
        Receive<Udp.CommandFailed>(_ => _sendsDropped++);
        Receive<Terminated>(t => t.ActorRef.Equals(_socket), _ =>
        {
            _socket = ActorRefs.Nobody;
            _owner.Tell(new Unavailable("the UDP socket closed"));
            Context.Stop(Self);
        });
        Receive<GetCounters>(_ => Sender.Tell(Current()));
    }

    private Counters Current() => new(_rejected, _replayed, _sendsDropped, _queue?.Dropped ?? 0);

    private void Probe()
    {
        if (_up) { Timers.Cancel(ProbeTick.Instance); return; }
        if (_probes++ >= MaxProbes)
        {
            Timers.Cancel(ProbeTick.Instance);
            _owner.Tell(new Unavailable($"no authenticated datagram from {Endpoints.Format(_peer)} in {MaxProbes} probes"));
            return;
        }
        Send(new UdpDatagram(UdpKind.Hello, _me, 0, 0, 0, []));
    }

    private void Send(UdpDatagram datagram)
    {
        byte[] bytes;
        try { bytes = _codec.Encode(datagram with { Number = ++_number }); }
        catch (ArgumentException ex) { _log.Warning("Not sending a {0} datagram: {1}", datagram.Kind, ex.Message); return; }
        _socket.Tell(Udp.Send.Create(ByteString.FromBytes(bytes), _peer));
    }

    private void OnDatagram(Udp.Received received)
    {
        if (_codec.Decode(received.Data.ToReadOnlySpan(), out var d) != UdpDecodeStatus.Ok || d!.Sender != _peerRole) { _rejected++; return; }
        if (!_window.TryAccept(d.Number)) { _replayed++; return; }
        _lastHeard = Stopwatch.GetTimestamp();
        _peer = received.Sender is IPEndPoint ip ? new IPEndPoint(Endpoints.Normalize(ip.Address), ip.Port) : received.Sender;
        if (!_up)
        {
            _up = true;
            _lastPong = _lastHeard; // the path's first datagram counts as an answer
            Timers.Cancel(ProbeTick.Instance);
            Send(new UdpDatagram(UdpKind.Hello, _me, 0, 0, 0, [])); // so the peer is up at once too
            _log.Info("UDP media path up with {0}", Endpoints.Format(_peer));
            _owner.Tell(new Up(_peer));
        }
        switch (d.Kind)
        {
            case UdpKind.Media: _owner.Tell(new MediaReceived(d.Seq, d.Value, d.Payload)); break;
            case UdpKind.Ping: Send(new UdpDatagram(UdpKind.Pong, _me, 0, 0, d.Value, [])); break;
            case UdpKind.Pong:
                _lastPong = _lastHeard;
                _owner.Tell(new PongReceived(d.Value));
                break;
        }
    }
}
