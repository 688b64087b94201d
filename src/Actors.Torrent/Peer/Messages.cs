using System.Net;
using Actors.Torrent.Peer.Picking;

namespace Actors.Torrent.Peer;

// Messages between a TorrentActor and its PeerConnections. Connection → torrent messages are
// named for what happened on the wire; torrent → connection messages for what is asked.

/// <summary>The remote peer completed a valid handshake for our torrent.</summary>
public sealed record PeerHandshaken(byte[] PeerId, IPEndPoint Remote, bool Outbound);
/// <summary>Accepted: send our bitfield and start talking.</summary>
public sealed record Welcome(PieceSet OurPieces);
/// <summary>Close the connection (duplicate, banned, too many peers, ...).</summary>
public sealed record Disconnect(string Reason);

public sealed record PeerBitfield(PieceSet Has);
public sealed record PeerHave(int Index);
public sealed record PeerChokedUs(bool Choked);
public sealed record PeerInterest(bool Interested);

/// <summary>The connection can carry <paramref name="Count"/> more requests; answered with <see cref="RequestBlocks"/>.</summary>
/// <param name="Idle">Nothing is in flight on this connection: it may take blocks others are slow to bring (<see cref="Picking.PiecePicker.Pick"/>).</param>
public sealed record BlocksWanted(int Count, bool Idle = false);
public sealed record RequestBlocks(IReadOnlyList<BlockRequest> Blocks);
/// <summary>The connection will not fetch these after all (choked, timed out).</summary>
public sealed record BlocksReturned(IReadOnlyList<BlockRequest> Blocks);
/// <summary>
/// A block arrived; <paramref name="Data"/> is owned by the message: the decoder rented it for this
/// block alone, and the torrent gives it back (<see cref="Wire.WireDecoder.ReturnBlock"/>) once handled.
/// </summary>
public sealed record BlockReceived(int Index, int Begin, ReadOnlyMemory<byte> Data);
public sealed record CancelBlock(BlockRequest Block);
public sealed record BlockUploaded(int Bytes);

public sealed record SetChoking(bool Choking);
public sealed record SetInterested(bool Interested);
public sealed record AnnounceHave(int Index);

/// <summary>An outgoing connect failed; <paramref name="OutOfResources"/> when the machine, not the peer, was the problem (EMFILE, no ports).</summary>
public sealed record DialFailed(IPEndPoint Remote, string Reason, bool OutOfResources);

/// <summary>The peer's extended handshake (BEP 10): its listening port (to share it by PEX), whether it speaks ut_pex, its client name.</summary>
public sealed record PeerExtensionsKnown(int? ListenPort, bool SupportsPex, string? Client);
/// <summary>Peers the remote peer told us about by PEX (BEP 11).</summary>
public sealed record PeersExchanged(IReadOnlyList<Extensions.PexPeer> Added);
/// <summary>Tell the peer, by PEX, which peers we connected to and dropped since the last message (at most 50 each).</summary>
public sealed record SendPex(IReadOnlyList<Extensions.PexPeer> Added, IReadOnlyList<IPEndPoint> Dropped);
