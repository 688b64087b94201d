namespace Actors.Torrent.Peer.Wire;

/// <summary>
/// Bounds for one connection's decoder, derived from the torrent it carries. Before the torrent's
/// metadata is known (a magnet link) <see cref="PiecesKnown"/> is false: bitfields are skipped
/// unread and piece indexes are not range-checked.
/// </summary>
public sealed record WireLimits(int PieceCount, int MaxBlockLength = WireLimits.BlockLength)
{
    /// <summary>The block size everyone uses and the largest we serve or accept (BEP 3 practice).</summary>
    public const int BlockLength = 16 * 1024;

    /// <summary>Largest extended message payload (extended id + body): a 16 KiB metadata piece and its bencoded header, with room to spare.</summary>
    public const int MaxExtendedLength = 16 * 1024 + 1024;

    /// <summary>Limits for a connection that does not know the torrent yet (fetching metadata).</summary>
    public static WireLimits MetadataOnly() => new(0) { PiecesKnown = false };

    public bool PiecesKnown { get; init; } = true;

    public int BitfieldLength => (PieceCount + 7) / 8;

    /// <summary>Largest payload (id + fields) we accept: a piece message with a full block, our bitfield, or an extended message.</summary>
    public int MaxMessageLength => Math.Max(Math.Max(9 + MaxBlockLength, 1 + BitfieldLength), 1 + MaxExtendedLength);
}
