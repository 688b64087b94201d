using System.Net;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;

namespace Actors.Torrent.Peer;

// BEP 6 (Fast) and BEP 10 (extension protocol: ut_metadata served, ut_pex both ways).
public sealed partial class PeerConnection
{
    /// <summary>The ids we ask peers to use for the extensions we speak (libtorrent's choice; any 1..255 works).</summary>
    public const byte OurPexId = 1, OurMetadataId = 2;
    /// <summary>Metadata pieces are answered only while the outbox is this short: a peer that asks and never reads gets rejects.</summary>
    private const int MaxOutboxForMetadata = 32;
    private const string ClientName = "Actors 0.1";

    /// <summary>Pieces this peer may download while we choke it (BEP 6), those of its allowed-fast set we have.</summary>
    private readonly HashSet<int> _allowedFast = new();
    /// <summary>The ids the peer asked us to use (0: it does not speak that extension).</summary>
    private byte _theirMetadataId, _theirPexId;

    // ---- Fast extension (BEP 6) ----------------------------------------------------------

    /// <summary>What we have, first after the handshake: have-all / have-none with Fast, else a bitfield (none when empty).</summary>
    private void SendOurPieces()
    {
        if (_fast && _ourPieces.IsComplete) Send(WireEncoder.Encode(WireMessage.HaveAll.Instance));
        else if (_fast && _ourPieces.IsEmpty) Send(WireEncoder.Encode(WireMessage.HaveNone.Instance));
        else if (!_ourPieces.IsEmpty) Send(WireEncoder.Encode(new WireMessage.Bitfield(_ourPieces.ToWire())));
    }

    /// <summary>The peer's allowed-fast set (k = 10), restricted to pieces we have: it may fetch them while choked, to get started.</summary>
    private void SendAllowedFast()
    {
        foreach (var index in AllowedFast.Compute(ToIp(_remote).Address, _context.Torrent.InfoHash.Span, _context.Torrent.PieceCount))
        {
            if (!_ourPieces[index]) continue;
            _allowedFast.Add(index);
            Send(WireEncoder.Encode(new WireMessage.AllowedFast(index)));
        }
    }

    /// <returns>false when the connection was dropped.</returns>
    private bool OnFast(WireMessage message)
    {
        if (!_fast) return Drop($"{message.GetType().Name} without the Fast extension");
        switch (message)
        {
            case WireMessage.HaveAll:
                _peerPieces = PieceSet.Full(_context.Torrent.PieceCount);
                _context.TorrentActor.Tell(new PeerBitfield(_peerPieces.Clone()));
                break;
            case WireMessage.HaveNone:
                _peerPieces = new PieceSet(_context.Torrent.PieceCount);
                _context.TorrentActor.Tell(new PeerBitfield(_peerPieces.Clone()));
                break;
            case WireMessage.Reject reject:
                // The block goes back to the picker; it is asked for again later (maybe of someone else).
                if (_outstanding.Remove((reject.Index, reject.Begin), out var block))
                    _context.TorrentActor.Tell(new BlocksReturned([block]));
                break;
            // Suggest and allowed-fast from the peer are hints we may ignore (BEP 6): we pick by rarity and wait for unchoke.
        }
        return true;
    }

    // ---- Extension protocol (BEP 10) -----------------------------------------------------

    private void SendExtensionHandshake()
    {
        var messages = new Dictionary<string, byte> { [ExtensionHandshake.UtMetadata] = OurMetadataId };
        // BEP 27: a private torrent's peers come from its tracker only.
        if (!_context.Torrent.IsPrivate) messages[ExtensionHandshake.UtPex] = OurPexId;
        var handshake = new ExtensionHandshake
        {
            Messages = messages,
            MetadataSize = _context.Torrent.RawInfo.Length,
            ListenPort = _context.ListenPort > 0 ? _context.ListenPort : null,
            Client = ClientName,
            RequestQueue = MaxPeerRequests,
            YourIp = ToIp(_remote).Address is { } ip && !ip.Equals(IPAddress.None) ? ip : null,
        };
        Send(WireEncoder.Extended(0, handshake.Encode()));
    }

    /// <returns>false when the connection was dropped.</returns>
    private bool OnExtended(WireMessage.Extended message)
    {
        if (!_extensions) return Drop("extended message without the extension protocol");
        try
        {
            switch (message.ExtendedId)
            {
                case 0:
                    var handshake = ExtensionHandshake.Parse(message.Payload);
                    _theirMetadataId = handshake.IdOf(ExtensionHandshake.UtMetadata);
                    _theirPexId = _context.Torrent.IsPrivate ? (byte)0 : handshake.IdOf(ExtensionHandshake.UtPex);
                    _context.TorrentActor.Tell(new PeerExtensionsKnown(handshake.ListenPort, _theirPexId != 0, handshake.Client));
                    break;
                case OurMetadataId:
                    OnMetadataMessage(MetadataMessage.Parse(message.Payload));
                    break;
                case OurPexId when !_context.Torrent.IsPrivate:
                    var pex = PexMessage.Parse(message.Payload);
                    if (pex.Added.Count > 0) _context.TorrentActor.Tell(new PeersExchanged(pex.Added));
                    break;
                // Any other id is an extension we did not advertise: ignored (BEP 10).
            }
            return true;
        }
        catch (PeerProtocolException ex)
        {
            return Drop(ex.Message);
        }
    }

    /// <summary>Serves the info dictionary (BEP 9) in 16 KiB pieces; rejects pieces out of range and requests while the outbox is full.</summary>
    private void OnMetadataMessage(MetadataMessage? message)
    {
        if (message is not MetadataMessage.Request request || _theirMetadataId == 0) return; // data/reject: we have the metadata already
        var raw = _context.Torrent.RawInfo;
        MetadataMessage answer = request.Piece < MetadataMessage.PieceCount(raw.Length) && _outbox.Count < MaxOutboxForMetadata
            ? new MetadataMessage.Data(request.Piece, raw.Length,
                raw.Slice(request.Piece * MetadataMessage.PieceLength, Math.Min(MetadataMessage.PieceLength, raw.Length - request.Piece * MetadataMessage.PieceLength)))
            : new MetadataMessage.Reject(request.Piece);
        Send(WireEncoder.Extended(_theirMetadataId, answer.Encode()));
    }

    private void OnSendPex(SendPex pex)
    {
        if (_theirPexId == 0 || pex.Added.Count == 0 && pex.Dropped.Count == 0) return;
        Send(WireEncoder.Extended(_theirPexId, new PexMessage(pex.Added, pex.Dropped).Encode()));
    }
}
