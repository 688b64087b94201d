using System.Net;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Connections;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Peer.Magnet;

/// <summary>
/// One outbound connection that fetches a torrent's info dictionary (BEP 9) before the torrent is
/// known: BEP 3 handshake with the extension bit, extended handshake, then every 16 KiB
/// ut_metadata piece (a few requests in flight), checked against the info-hash. Reports
/// <see cref="MetadataFetched"/> or <see cref="MetadataBad"/> to its parent, or simply stops
/// (peer unreachable, no ut_metadata, rejected, too slow). Everything else the peer says
/// (bitfield, have, choke...) is read and ignored; its metadata requests are rejected.
/// Holds one slot of the <see cref="ConnectionBudget"/> like a <see cref="PeerConnection"/>.
/// </summary>
public sealed class MetadataConnection : ReceiveActor, IWithTimers
{
    private const int MaxRequestsInFlight = 4;
    private const int MaxWritesInFlight = 4;
    private sealed class Ack : Tcp.Event { public static readonly Ack Instance = new(); }
    private sealed class GiveUp { public static readonly GiveUp Instance = new(); }

    private readonly IPEndPoint _remote;
    private readonly byte[] _infoHash;
    private readonly MagnetSettings _settings;
    private readonly ConnectionBudget _budget;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly WireDecoder _decoder = new(WireLimits.MetadataOnly());
    private readonly List<WireMessage> _decoded = new();
    private readonly Queue<byte[]> _outbox = new();
    private readonly Queue<int> _toRequest = new();
    private IActorRef _connection = ActorRefs.Nobody;
    private bool _halfOpen = true, _open;
    private int _writesInFlight, _requestsInFlight;
    private byte _theirMetadataId;
    private bool _portHonoured;
    private MetadataAssembler? _assembler;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Dials <paramref name="remote"/>; the caller has taken a half-open slot (<see cref="ConnectionBudget.TryStartDial"/>).</summary>
    public static Props Props(IPEndPoint remote, byte[] infoHash, MagnetSettings settings, ConnectionBudget budget) =>
        Akka.Actor.Props.Create(() => new MetadataConnection(remote, infoHash, settings, budget));

    public MetadataConnection(IPEndPoint remote, byte[] infoHash, MagnetSettings settings, ConnectionBudget budget)
    {
        _remote = remote;
        _infoHash = infoHash;
        _settings = settings;
        _budget = budget;
        Connecting();
    }

    private string Who => Endpoints.Format(_remote);

    protected override void PreStart()
    {
        Timers.StartSingleTimer(GiveUp.Instance, GiveUp.Instance, _settings.ConnectTimeout + _settings.PeerTimeout);
        Context.System.Tcp().Tell(new Tcp.Connect(_remote, timeout: _settings.ConnectTimeout));
    }

    protected override void PostStop()
    {
        if (_halfOpen) _budget.DialEnded();
        else if (_open) _budget.Closed();
        _halfOpen = _open = false;
        if (!_connection.IsNobody()) _connection.Tell(Tcp.Abort.Instance);
    }

    private void Connecting()
    {
        Receive<Tcp.Connected>(_ =>
        {
            _budget.DialConnected();
            _halfOpen = false;
            _open = true;
            _connection = Sender;
            _connection.Tell(new Tcp.Register(Self, keepOpenOnPeerClosed: false, useResumeWriting: false));
            Context.Watch(_connection);
            // Nothing but the handshake until theirs arrives: aria2 drops a peer that sends more before it answered.
            Send(new Handshake(Handshake.OurReserved(dht: _settings.Dht is not null), _infoHash, _settings.PeerId).Encode());
            Become(Talking);
        });
        Receive<Tcp.CommandFailed>(failed => Stop($"cannot connect: {failed.CauseString}"));
        Receive<GiveUp>(_ => Stop("no answer to connect"));
    }

    private void Talking()
    {
        Receive<Tcp.Received>(received =>
        {
            _decoded.Clear();
            try
            {
                var wasHandshaken = _decoder.HandshakeDone;
                _decoder.Decode(received.Data.ToReadOnlySpan(), _decoded);
                if (!wasHandshaken && _decoder.HandshakeDone && !CheckHandshake(_decoder.Handshake!)) return;
                foreach (var message in _decoded)
                {
                    if (message is WireMessage.Port port) OnPort(port);
                    else if (message is WireMessage.Extended extended && !OnExtended(extended)) return;
                }
            }
            catch (PeerProtocolException ex)
            {
                Bad(ex.Message);
            }
        });
        Receive<Ack>(_ =>
        {
            _writesInFlight--;
            Flush();
        });
        Receive<GiveUp>(_ => Stop("too slow"));
        Receive<Tcp.ConnectionClosed>(_ => Stop("closed the connection"));
        Receive<Tcp.CommandFailed>(failed => Stop(failed.CauseString));
        Receive<Terminated>(_ => Stop("connection gone"));
    }

    private bool CheckHandshake(Handshake handshake)
    {
        if (!handshake.InfoHash.AsSpan().SequenceEqual(_infoHash)) return Stop("handshake for another torrent");
        if (handshake.PeerId.AsSpan().SequenceEqual(_settings.PeerId)) return Stop("connected to ourselves");
        if (!handshake.SupportsExtensions) return Stop("does not speak the extension protocol (BEP 10)");
        var ours = new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { [ExtensionHandshake.UtMetadata] = PeerConnection.OurMetadataId },
            ListenPort = _settings.ListenPort > 0 ? _settings.ListenPort : null,
            Client = "Actors 0.1",
        };
        Send(WireEncoder.Extended(0, ours.Encode()));
        // BEP 5: both run a DHT node, so each tells the other where (the peer's node may know the swarm).
        if (handshake.SupportsDht && _settings.Dht is { } dht) Send(WireEncoder.Encode(new WireMessage.Port(dht.UdpPort)));
        return true;
    }

    /// <summary>BEP 5: the peer's DHT node is at its IP and this UDP port; one ping per connection, the node bounds the rest.</summary>
    private void OnPort(WireMessage.Port port)
    {
        if (_portHonoured || _settings.Dht is not { } dht || port.UdpPort == 0) return;
        _portHonoured = true;
        dht.Node.Tell(new Dht.PingAdvertisedNode(new IPEndPoint(Endpoints.Normalize(_remote.Address), port.UdpPort)));
    }

    /// <returns>false when this connection is over.</returns>
    private bool OnExtended(WireMessage.Extended message)
    {
        if (message.ExtendedId == 0)
        {
            var handshake = ExtensionHandshake.Parse(message.Payload);
            _theirMetadataId = handshake.IdOf(ExtensionHandshake.UtMetadata);
            if (_theirMetadataId == 0) return Stop("does not speak ut_metadata");
            if (_assembler is not null) return true; // a repeated handshake changes nothing we use
            if (handshake.MetadataSize is not { } size) return Stop("has no metadata to give");
            if (size > _settings.MaxMetadataSize)
                return Stop($"announces metadata of {size} bytes, above max-metadata-size {_settings.MaxMetadataSize}");
            _assembler = new MetadataAssembler(_infoHash, (int)size);
            foreach (var piece in _assembler.Missing) _toRequest.Enqueue(piece);
            RequestMore();
            return true;
        }
        if (message.ExtendedId != PeerConnection.OurMetadataId) return true; // nothing else was advertised
        switch (MetadataMessage.Parse(message.Payload))
        {
            case MetadataMessage.Request request:
                // We have nothing yet (BEP 9: reject).
                Send(WireEncoder.Extended(_theirMetadataId, new MetadataMessage.Reject(request.Piece).Encode()));
                return true;
            case MetadataMessage.Reject reject:
                return Stop($"rejected metadata piece {reject.Piece}");
            case MetadataMessage.Data data when _assembler is not null:
                _assembler.Add(data);
                _requestsInFlight = Math.Max(0, _requestsInFlight - 1);
                if (!_assembler.IsComplete)
                {
                    RequestMore();
                    return true;
                }
                var verified = _assembler.Verified();
                if (verified is null) return Bad("sent metadata that does not hash to the info-hash");
                Context.Parent.Tell(new MetadataFetched(verified, _remote));
                Context.Stop(Self);
                return false;
            case MetadataMessage.Data:
                return Bad("sent metadata before its extended handshake");
            default:
                return true;
        }
    }

    private void RequestMore()
    {
        while (_requestsInFlight < MaxRequestsInFlight && _toRequest.Count > 0)
        {
            _requestsInFlight++;
            Send(WireEncoder.Extended(_theirMetadataId, new MetadataMessage.Request(_toRequest.Dequeue()).Encode()));
        }
    }

    private void Send(byte[] bytes)
    {
        _outbox.Enqueue(bytes);
        Flush();
    }

    private void Flush()
    {
        while (_writesInFlight < MaxWritesInFlight && _outbox.Count > 0)
        {
            _writesInFlight++;
            _connection.Tell(Tcp.Write.Create(ByteString.FromBytes(_outbox.Dequeue()), Ack.Instance));
        }
    }

    private bool Bad(string reason)
    {
        _log.Warning("{0} {1}: not asked again", Who, reason);
        Context.Parent.Tell(new MetadataBad(_remote, reason));
        Context.Stop(Self);
        return false;
    }

    private bool Stop(string reason)
    {
        _log.Debug("Metadata from {0}: {1}", Who, reason);
        Context.Stop(Self);
        return false;
    }
}
