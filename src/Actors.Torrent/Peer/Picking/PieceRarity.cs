namespace Actors.Torrent.Peer.Picking;

/// <summary>
/// Which pieces few of a torrent's connected peers hold, for its connections to read when they
/// choose which of a peer's requests to serve next. A piece we just got is one only we and a few
/// others can upload; served first, it spreads through the swarm in a few hops of a block each
/// instead of waiting behind blocks that every peer could fetch elsewhere. In a capped swarm of 20
/// the last pieces the seeder sent took ~1.7 s to reach every leecher, and that tail was the
/// swarm's whole distance from the bound (Peer/README.md, "Serving rare pieces first").
/// </summary>
/// <remarks>
/// The counts are the <see cref="PiecePicker"/>'s, written by the torrent actor alone; connections
/// on other threads read them without a lock. A stale count only reorders a request, so a read
/// that misses the latest <c>have</c> costs nothing but a little priority.
/// </remarks>
public sealed class PieceRarity(int[] holders)
{
    private int _peers;

    /// <summary>The connected peers, which the torrent actor sets as they join and leave.</summary>
    public int Peers
    {
        get => Volatile.Read(ref _peers);
        set => Volatile.Write(ref _peers, value);
    }

    /// <summary>True when fewer than a quarter of our peers (at least one) hold piece <paramref name="index"/>.</summary>
    public bool IsRare(int index) =>
        (uint)index < (uint)holders.Length && Volatile.Read(ref holders[index]) * 4 < Math.Max(4, Peers);
}
