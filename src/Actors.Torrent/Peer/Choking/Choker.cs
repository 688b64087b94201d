namespace Actors.Torrent.Peer.Choking;

/// <summary>
/// A peer as the choker sees it: whether it wants data and how fast it trades with us. For a
/// seed's round robin also whether it is unchoked now, <see cref="Since"/> when that last changed
/// (any monotonic clock), and the bytes it took from us since its unchoke.
/// </summary>
public sealed record ChokeCandidate(object Key, bool Interested, double Rate)
{
    public bool Unchoked { get; init; }
    public long Since { get; init; }
    public long UploadedSinceUnchoke { get; init; }
}

/// <summary>
/// BEP 3 tit-for-tat: every round the <see cref="RegularSlots"/> interested peers with the best
/// rate (what they give us while we leech) are unchoked, plus one optimistic unchoke, a random
/// choked interested peer, rotated every <see cref="OptimisticEveryRounds"/> rounds so newcomers
/// get a chance to prove themselves. A seed has nothing to get back, so it takes turns instead
/// (<see cref="SeedRound"/>, libtorrent's "round robin" seed choking).
/// Pure: the torrent actor calls <see cref="Round"/> or <see cref="SeedRound"/> on a timer.
/// </summary>
public sealed class Choker(Random? random = null)
{
    public const int RegularSlots = 4;
    public const int OptimisticEveryRounds = 3; // 3 × 10 s rounds = 30 s

    private readonly Random _random = random ?? Random.Shared;
    private int _round;

    public object? Optimistic { get; private set; }

    /// <summary>The keys to unchoke this round; everyone else is choked.</summary>
    public IReadOnlySet<object> Round(IReadOnlyList<ChokeCandidate> candidates, int regularSlots = RegularSlots)
    {
        var unchoke = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var c in candidates.Where(c => c.Interested).OrderByDescending(c => c.Rate).Take(regularSlots))
            unchoke.Add(c.Key);

        var optimisticGone = Optimistic is null || !candidates.Any(c => ReferenceEquals(c.Key, Optimistic) && c.Interested);
        if (_round++ % OptimisticEveryRounds == 0 || optimisticGone || unchoke.Contains(Optimistic!))
        {
            var choked = candidates.Where(c => c.Interested && !unchoke.Contains(c.Key)).ToArray();
            Optimistic = choked.Length == 0 ? null : choked[_random.Next(choked.Length)].Key;
        }
        if (Optimistic is not null) unchoke.Add(Optimistic);
        return unchoke;
    }

    /// <summary>
    /// A seed's round: its <see cref="RegularSlots"/> + 1 slots go in turns. An unchoked peer keeps
    /// its slot until it took <paramref name="quota"/> bytes since its unchoke; then the interested
    /// peers that waited longest take over, and a peer that had its turn keeps its slot only when
    /// nobody is waiting (the one that took least first). Every interested peer gets the seed in
    /// turn, whatever its speed: fastest-first would feed the same few peers for the whole download.
    /// </summary>
    public static IReadOnlySet<object> SeedRound(IReadOnlyList<ChokeCandidate> candidates, long quota, int regularSlots = RegularSlots)
    {
        var interested = candidates.Where(c => c.Interested).ToArray();
        var order = interested.Where(c => c.Unchoked && c.UploadedSinceUnchoke < quota).OrderBy(c => c.Since)
            .Concat(interested.Where(c => !c.Unchoked).OrderBy(c => c.Since))
            .Concat(interested.Where(c => c.Unchoked && c.UploadedSinceUnchoke >= quota).OrderBy(c => c.UploadedSinceUnchoke));
        return order.Take(regularSlots + 1).Select(c => c.Key).ToHashSet(ReferenceEqualityComparer.Instance);
    }

    /// <summary>Between rounds, an interested newcomer may take a free slot at once.</summary>
    public static bool HasFreeSlot(int unchoked, int regularSlots = RegularSlots) => unchoked < regularSlots + 1;

    /// <summary>
    /// libtorrent's rate-based choker, simplified: a leecher whose capped upload went less than 90 %
    /// used while interested peers wait for a slot opens one more (checked every second; the
    /// unchoked peers could not take it all: they hold much of what we have, or fetch it from
    /// others). Without a cap the pipe is the limit, and the BEP 3 four stay.
    /// </summary>
    public static bool ShouldOpenSlot(int slots, double uploadRate, long uploadCap, bool peersWaiting) =>
        uploadCap > 0 && peersWaiting && slots < MaxSlots && uploadRate < 0.9 * uploadCap;

    /// <summary>The most regular slots <see cref="ShouldOpenSlot"/> opens.</summary>
    public const int MaxSlots = 16;
}
