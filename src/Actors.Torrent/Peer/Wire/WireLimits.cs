namespace Actors.Torrent.Peer.Wire;

/// <summary>Bounds for one connection's decoder, derived from the torrent it carries.</summary>
public sealed record WireLimits(int PieceCount, int MaxBlockLength = WireLimits.BlockLength)
{
    /// <summary>The block size everyone uses and the largest we serve or accept (BEP 3 practice).</summary>
    public const int BlockLength = 16 * 1024;

    public int BitfieldLength => (PieceCount + 7) / 8;

    /// <summary>Largest payload (id + fields) we accept: a piece message with a full block, or our bitfield.</summary>
    public int MaxMessageLength => Math.Max(9 + MaxBlockLength, 1 + BitfieldLength);
}
