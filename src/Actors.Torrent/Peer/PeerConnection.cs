using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Peer.Connections;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Picking;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Peer;

/// <summary>
/// Owns one TCP connection to one remote peer and speaks BEP 3 on it, with the Fast extension
/// (BEP 6) and the extension protocol (BEP 10: ut_metadata, ut_pex) when the peer sets their bits:
/// connecting (outbound) → handshaking → awaiting the torrent's welcome → connected.
/// Keeps a pipeline of block requests whose depth follows the peer's rate, serves the peer's
/// requests from storage with up to <see cref="MaxReadsInFlight"/> blocks being read (asked for together) and at most
/// <see cref="MaxBlocksQueued"/> blocks read but not yet acknowledged by the socket, and never has
/// more than <see cref="MaxWritesInFlight"/> unacknowledged writes (each up to <see cref="MaxBatchBytes"/>). Reading is paused while the download
/// cap is in debt. Any protocol violation closes the connection.
/// <para>
/// Holds one slot of the process's <see cref="ConnectionBudget"/> (half-open while dialling, open
/// once connected) and gives it back in PostStop, however it ends. An inbound connection beyond
/// the budget is closed at once. It ticks (on the process's <see cref="Actors.Net.Scheduling.TickWheel"/>)
/// every second while blocks move and every <see cref="IdleTick"/> while idle, so thousands of idle
/// connections cost almost no CPU.
/// </para>
/// </summary>
public sealed partial class PeerConnection : ReceiveActor, IWithTimers
{
    private const int MaxWritesInFlight = 4;
    private const int MaxBatchBytes = 128 * 1024;
    private const int MaxReadsInFlight = 8;
    private const int MaxBlocksQueued = 16;
    private const int MaxPeerRequests = 512;
    private const int MinDepth = 4, InitialDepth = 16, MaxDepth = 128;
    private static readonly TimeSpan ActiveTick = TimeSpan.FromSeconds(1);
    /// <summary>Idle connections only need keep-alives (every <see cref="KeepAliveAfter"/>) and the idle timeout.</summary>
    public static readonly TimeSpan IdleTick = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan KeepAliveAfter = TimeSpan.FromSeconds(60);

    private enum Slot { None, HalfOpen, Open }

    /// <summary>A write's acknowledgement; <paramref name="blocks"/>: the pooled buffers of the blocks in it, given back when it arrives.</summary>
    private sealed class Ack(IReadOnlyList<byte[]> blocks) : Tcp.Event { public IReadOnlyList<byte[]> Blocks { get; } = blocks; }
    private sealed class Tick { public static readonly Tick Instance = new(); }
    private sealed class ResumeRead { public static readonly ResumeRead Instance = new(); }
    private sealed class UploadReady { public static readonly UploadReady Instance = new(); }
    private sealed class HandshakeTimeout { public static readonly HandshakeTimeout Instance = new(); }

    private readonly ConnectionContext _context;
    private readonly WireDecoder _decoder;
    private readonly List<WireMessage> _decoded = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly bool _outbound;
    private IActorRef _connection = ActorRefs.Nobody;
    private EndPoint _remote;
    private readonly EndPoint _dialled;
    private Slot _slot;
    private bool _ticksFast, _ticking;

    // Writing.
    /// <summary>
    /// A message to send; a block travels as its 13-byte header plus the pooled buffer storage read
    /// it into, uncopied (<see cref="StorageActor.BlockRead"/>). No block: a default segment.
    /// </summary>
    private readonly record struct Outgoing(byte[] Bytes, ArraySegment<byte> Block = default)
    {
        public int Length => Bytes.Length + Block.Count;
    }

    private readonly Queue<Outgoing> _outbox = new();
    private int _writesInFlight, _blocksQueued;
    private long _lastWrite, _lastRead;

    // Our side.
    private PieceSet _ourPieces = new(0);
    private bool _amChoking = true, _amInterested;
    private readonly Queue<WireMessage.Request> _peerRequests = new();
    // Blocks asked of storage and not yet answered.
    private int _readsInFlight;
    // The messages of one read brought requests: storage is asked after the last of them.
    private bool _requestsArrived;

    // Their side.
    private PieceSet _peerPieces;
    private bool _peerChoking = true;
    private readonly Dictionary<(int, int), BlockRequest> _outstanding = new();
    private bool _askPending;
    private int _depth = InitialDepth;
    private long _receivedThisSecond, _lastBlockAt;
    private double _rate;
    private bool _readingSuspended;
    private readonly List<WireMessage> _early = new();

    // Negotiated in the handshake: both sides set the bit.
    private bool _fast, _extensions;
    // The peer runs a DHT node (its handshake's bit); its port message was already passed on.
    private bool _theirDht, _portHonoured;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Dials <paramref name="remote"/>; the caller has already taken a half-open slot (<see cref="ConnectionBudget.TryStartDial"/>).</summary>
    public static Props Outbound(EndPoint remote, ConnectionContext context) =>
        Props.Create(() => new PeerConnection(null, remote, context));

    /// <summary>Takes over a connection accepted by a <see cref="TcpServer"/>.</summary>
    public static Props Inbound(IActorRef connection, EndPoint remote, ConnectionContext context) =>
        Props.Create(() => new PeerConnection(connection, remote, context));

    public PeerConnection(IActorRef? connection, EndPoint remote, ConnectionContext context)
    {
        _context = context;
        _remote = _dialled = remote;
        _outbound = connection is null;
        _slot = _outbound ? Slot.HalfOpen : Slot.None;
        _decoder = new WireDecoder(new WireLimits(context.Torrent.PieceCount));
        _peerPieces = new PieceSet(context.Torrent.PieceCount);
        if (connection is null)
        {
            Connecting();
        }
        else
        {
            _connection = connection;
            Handshaking();
        }
    }

    private string Who => Endpoints.Format(_remote);

    protected override void PreStart()
    {
        if (!_outbound && !_context.Budget.TryAccept())
        {
            // Over the process's budget: close at once rather than run out of descriptors.
            if (_context.Budget.RefusalLog.ShouldLog(out var refused))
                _log.Warning("Connection budget spent ({0} sockets): refusing {1}; {2} refused since the last warning",
                    _context.Budget.Capacity, Who, refused);
            _connection.Tell(Tcp.Abort.Instance);
            Context.Stop(Self);
            return;
        }
        if (!_outbound) _slot = Slot.Open;
        Timers.StartSingleTimer(HandshakeTimeout.Instance, HandshakeTimeout.Instance, _context.ConnectTimeout + _context.HandshakeTimeout);
        if (_outbound)
            Context.System.Tcp().Tell(new Tcp.Connect(_remote, localAddress: _context.LocalAddress, timeout: _context.ConnectTimeout));
        else
            Register();
    }

    protected override void PostStop()
    {
        // The slot goes back however the connection ended (dropped, failed, stopped with the torrent).
        if (_slot == Slot.HalfOpen) _context.Budget.DialEnded();
        else if (_slot == Slot.Open) _context.Budget.Closed();
        _slot = Slot.None;
    }

    private void Register()
    {
        _connection.Tell(new Tcp.Register(Self, keepOpenOnPeerClosed: false, useResumeWriting: false));
        Context.Watch(_connection);
        _lastRead = _lastWrite = Stopwatch.GetTimestamp();
    }

    // ---- Connected -----------------------------------------------------------------------

    private void Connected()
    {
        Receive<Tcp.Received>(received =>
        {
            if (!Decode(received.Data)) return;
            Handle(_decoded.ToArray());
            var owed = _context.Download.Take(received.Data.Count);
            if (owed > TimeSpan.FromMilliseconds(20))
            {
                SuspendReading();
                Timers.StartSingleTimer(ResumeRead.Instance, ResumeRead.Instance, owed);
            }
        });
        Receive<ResumeRead>(_ => ResumeReading());
        Receive<RequestBlocks>(OnRequestBlocks);
        Receive<CancelBlock>(cancel =>
        {
            var b = cancel.Block;
            if (_outstanding.Remove((b.Index, b.Begin)))
                Send(WireEncoder.Encode(new WireMessage.Cancel(b.Index, b.Begin, b.Length)));
        });
        Receive<SetInterested>(s =>
        {
            if (s.Interested == _amInterested) return;
            _amInterested = s.Interested;
            Send(WireEncoder.Encode(s.Interested ? WireMessage.Interested.Instance : WireMessage.NotInterested.Instance));
            AskForWork();
        });
        Receive<SetChoking>(s =>
        {
            if (s.Choking == _amChoking) return;
            _amChoking = s.Choking;
            if (_amChoking) DiscardRequestsOnChoke();
            Send(WireEncoder.Encode(s.Choking ? WireMessage.Choke.Instance : WireMessage.Unchoke.Instance));
        });
        Receive<AnnounceHave>(h =>
        {
            _ourPieces.Add(h.Index);
            // Sent even to a peer that has the piece (libtorrent's send_redundant_have): a super-seed
            // (BEP 16) learns from it that we fetched what it showed us, and shows the next piece.
            Send(WireEncoder.Encode(new WireMessage.Have(h.Index)));
        });
        Receive<StorageActor.BlocksRead>(OnBlocksRead);
        Receive<UploadReady>(_ => PumpUploads());
        Receive<SendPex>(OnSendPex);
        Receive<Tick>(_ => OnTick());
        Receive<Disconnect>(d => Drop(d.Reason));
        Writes();
        ConnectionEvents();
    }

    private bool Decode(ByteString data)
    {
        _decoded.Clear();
        _lastRead = Stopwatch.GetTimestamp();
        try
        {
            _decoder.Decode(data.ToReadOnlySpan(), _decoded);
            return true;
        }
        catch (PeerProtocolException ex)
        {
            Drop(ex.Message);
            return false;
        }
    }

    private void Handle(IReadOnlyList<WireMessage> messages)
    {
        _requestsArrived = false;
        foreach (var message in messages)
        {
            if (!Handle(message)) return;
        }
        if (_requestsArrived) PumpUploads();
    }

    /// <returns>false when the connection was dropped.</returns>
    private bool Handle(WireMessage message)
    {
        switch (message)
        {
            case WireMessage.KeepAlive:
                break;
            case WireMessage.Choke:
                _peerChoking = true;
                ReturnOutstanding();
                _context.TorrentActor.Tell(new PeerChokedUs(true));
                break;
            case WireMessage.Unchoke:
                _peerChoking = false;
                _context.TorrentActor.Tell(new PeerChokedUs(false));
                AskForWork();
                break;
            case WireMessage.Interested:
                _context.TorrentActor.Tell(new PeerInterest(true));
                break;
            case WireMessage.NotInterested:
                _context.TorrentActor.Tell(new PeerInterest(false));
                break;
            case WireMessage.Have have:
                if (!_peerPieces.Add(have.Index)) break;
                _context.TorrentActor.Tell(new PeerHave(have.Index));
                // A piece we lack and nothing in flight here: ask for work now (the torrent sees the
                // have first: same sender, same receiver). A connection whose last ask came back
                // empty would otherwise wait for its tick (up to 15 s when idle) while the peer sits
                // on a fresh piece. One with blocks in flight asks as they arrive: asking on every
                // have too cost a 100-leecher process ~15 % more CPU.
                if (_outstanding.Count == 0 && !_ourPieces[have.Index]) AskForWork();
                break;
            case WireMessage.Bitfield bitfield:
                // BEP 3 allows it only first; aria2 sends it later too, so it simply replaces what we knew.
                _peerPieces = PieceSet.FromWire(_context.Torrent.PieceCount, bitfield.Bits);
                _context.TorrentActor.Tell(new PeerBitfield(_peerPieces.Clone()));
                break;
            case WireMessage.Request request:
                return OnPeerRequest(request);
            case WireMessage.Cancel cancel:
                if (_peerRequests.Count > 0)
                {
                    var kept = _peerRequests.Where(r => r.Index != cancel.Index || r.Begin != cancel.Begin || r.Length != cancel.Length).ToArray();
                    _peerRequests.Clear();
                    foreach (var r in kept) _peerRequests.Enqueue(r);
                }
                break;
            case WireMessage.Piece piece:
                OnPiece(piece);
                break;
            case WireMessage.HaveAll or WireMessage.HaveNone or WireMessage.Reject or WireMessage.AllowedFast or WireMessage.Suggest:
                return OnFast(message);
            case WireMessage.Extended extended:
                return OnExtended(extended);
            case WireMessage.Port port:
                OnPort(port);
                break;
        }
        return true;
    }

    /// <summary>BEP 5: the peer's DHT node is at its IP and this UDP port. Honoured once per connection; the node bounds the rest.</summary>
    private void OnPort(WireMessage.Port port)
    {
        if (_portHonoured || _context.Dht is not { } dht || port.UdpPort == 0 || _remote is not IPEndPoint ip) return;
        _portHonoured = true;
        dht.Node.Tell(new Dht.PingAdvertisedNode(new IPEndPoint(Endpoints.Normalize(ip.Address), port.UdpPort)));
    }
}
