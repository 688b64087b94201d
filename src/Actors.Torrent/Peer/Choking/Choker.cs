namespace Actors.Torrent.Peer.Choking;

/// <summary>A peer as the choker sees it: whether it wants data and how fast it trades with us.</summary>
public sealed record ChokeCandidate(object Key, bool Interested, double Rate);

/// <summary>
/// BEP 3 tit-for-tat: every round the <see cref="RegularSlots"/> interested peers with the best
/// rate (what they give us while we leech, what they take while we seed) are unchoked, plus one
/// optimistic unchoke, a random choked interested peer, rotated every
/// <see cref="OptimisticEveryRounds"/> rounds so newcomers get a chance to prove themselves.
/// Pure: the torrent actor calls <see cref="Round"/> on a timer.
/// </summary>
public sealed class Choker(Random? random = null)
{
    public const int RegularSlots = 4;
    public const int OptimisticEveryRounds = 3; // 3 × 10 s rounds = 30 s

    private readonly Random _random = random ?? Random.Shared;
    private int _round;

    public object? Optimistic { get; private set; }

    /// <summary>The keys to unchoke this round; everyone else is choked.</summary>
    public IReadOnlySet<object> Round(IReadOnlyList<ChokeCandidate> candidates)
    {
        var unchoke = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var c in candidates.Where(c => c.Interested).OrderByDescending(c => c.Rate).Take(RegularSlots))
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

    /// <summary>Between rounds, an interested newcomer may take a free slot at once.</summary>
    public static bool HasFreeSlot(int unchoked) => unchoked < RegularSlots + 1;
}
