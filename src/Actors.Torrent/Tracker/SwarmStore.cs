namespace Actors.Torrent.Tracker;

/// <summary>
/// One change to a swarm, as applied by the holder that received the announce and streamed to the
/// partition's other holders: a peer announced (upsert, with <see cref="Completed"/> counting a
/// download) or stopped (remove). <see cref="LastSeen"/> is also the change's stamp: every holder
/// keeps, per peer, the change with the newest stamp (<see cref="SwarmStore.Apply"/>).
/// </summary>
public readonly record struct PeerChange(
    Id20 InfoHash, Id20 PeerId, PeerAddress Address, int Port, bool Seeder, int LastSeen, bool Removed, bool Completed)
{
    public static PeerChange Of(AnnounceRequest request, int now) => new(
        Id20.FromHex(request.InfoHash), Id20.FromHex(request.PeerId), PeerAddress.From(request.Ip), request.Port,
        request.IsSeeder, now, request.Event == AnnounceEvent.Stopped, request.Event == AnnounceEvent.Completed);
}

/// <summary>A swarm's completed-download count, carried by a handover.</summary>
public readonly record struct SwarmDownloads(Id20 InfoHash, long Downloaded);

/// <summary>
/// The swarms this node holds, grouped in a fixed number of partitions by info-hash (a partition
/// is what is owned, replicated and handed over). Plain data, owned by the <see cref="SwarmRegistry"/>.
/// </summary>
public sealed class SwarmStore(int partitions)
{
    /// <summary>
    /// Removals remembered, oldest forgotten first. A removal only needs remembering while another
    /// holder's concurrent older update may still arrive (a replica batch's round trip, seconds);
    /// 32,768 is many seconds of stops at any rate we reach, and costs at most ~4 MB. Forgetting
    /// one early risks only a stopped peer that stays listed until it expires.
    /// </summary>
    public const int MaxRemovals = 32_768;

    private readonly Dictionary<Id20, Swarm>?[] _partitions = new Dictionary<Id20, Swarm>?[partitions];
    /// <summary>Per partition, remembered removals by (info-hash, peer id): their stamps. Handed over with the partition.</summary>
    private readonly Dictionary<(Id20 InfoHash, Id20 PeerId), int>?[] _removals = new Dictionary<(Id20 InfoHash, Id20 PeerId), int>?[partitions];
    private readonly Queue<((Id20 InfoHash, Id20 PeerId) Key, int Stamp)> _removalOrder = new();

    public int Partitions => partitions;
    public long PeerCount { get; private set; }
    public int SwarmCount { get; private set; }

    /// <summary>Partition of an info-hash: its first two bytes (SHA-1 output, so uniform) modulo the count.</summary>
    public static int PartitionOf(Id20 infoHash, int partitions) => (int)((infoHash.A >> 48) % (ulong)partitions);

    public int PartitionOf(Id20 infoHash) => PartitionOf(infoHash, partitions);

    /// <summary>Whether this node has anything of the partition to hand over: swarms, or remembered removals.</summary>
    public bool HasData(int partition) => _partitions[partition] is { Count: > 0 } || _removals[partition] is { Count: > 0 };

    public IEnumerable<int> PartitionsWithData() => Enumerable.Range(0, partitions).Where(HasData);

    public Swarm? Find(Id20 infoHash) => _partitions[PartitionOf(infoHash)]?.GetValueOrDefault(infoHash);

    /// <summary>
    /// Stamps a change this node received from a client: its time, or one second past the newest
    /// stamp this node has for the peer (record or removal) when that is not older. So a holder's
    /// own changes to a peer are ordered even within one second (an announce and a stop, a stop
    /// and a restart), and a change made after seeing another holder's change wins over it on
    /// every holder, whatever their clocks (a peer's stamp is a Lamport clock).
    /// </summary>
    public PeerChange Stamp(in PeerChange change)
    {
        var known = Find(change.InfoHash)?.LastSeenOf(change.PeerId) ?? RemovedAt(change.InfoHash, change.PeerId);
        return known is { } stamp && stamp >= change.LastSeen ? change with { LastSeen = stamp + 1 } : change;
    }

    /// <summary>
    /// Applies a change, its own or another holder's, newest wins per peer (by
    /// <see cref="PeerChange.LastSeen"/>; a removal wins over an update of the same second, updates
    /// of the same second are ordered by content): two holders that applied each other's changes
    /// in opposite orders hold the same record. A removal is remembered (bounded, see
    /// <see cref="MaxRemovals"/>) so that an older update arriving later does not bring the peer
    /// back. A completed event counts its download whether or not its update wins: each holder
    /// applies each change once (its own, or the replica), so each counts it once.
    /// Handed-over peers go through here too.
    /// </summary>
    public void Apply(in PeerChange change)
    {
        var swarms = _partitions[PartitionOf(change.InfoHash)] ??= [];
        if (change.Removed)
        {
            RememberRemoval(change);
            if (swarms.TryGetValue(change.InfoHash, out var existing))
            {
                PeerCount -= existing.Remove(change.PeerId, change.LastSeen);
                if (change.Completed) existing.Downloaded++;
                DropIfEmpty(swarms, change.InfoHash, existing);
            }
            return;
        }
        var swarm = GetOrAdd(swarms, change.InfoHash);
        if (change.Completed) swarm.Downloaded++;
        if (RemovedAt(change.InfoHash, change.PeerId) is { } removedAt && removedAt >= change.LastSeen && !swarm.Contains(change.PeerId))
        {
            DropIfEmpty(swarms, change.InfoHash, swarm);
            return; // removed after this update was made
        }
        PeerCount += swarm.Upsert(change.PeerId, change.Address, change.Port, change.Seeder, change.LastSeen);
    }

    private int? RemovedAt(Id20 infoHash, Id20 peerId) =>
        _removals[PartitionOf(infoHash)] is { } removals && removals.TryGetValue((infoHash, peerId), out var stamp) ? stamp : null;

    private void RememberRemoval(in PeerChange change)
    {
        var removals = _removals[PartitionOf(change.InfoHash)] ??= [];
        var key = (change.InfoHash, change.PeerId);
        if (removals.TryGetValue(key, out var known) && known >= change.LastSeen) return;
        removals[key] = change.LastSeen;
        _removalOrder.Enqueue((key, change.LastSeen));
        while (_removalOrder.Count > MaxRemovals)
        {
            var (oldest, stamp) = _removalOrder.Dequeue();
            if (_removals[PartitionOf(oldest.InfoHash)] is { } of && of.TryGetValue(oldest, out var current) && current == stamp) of.Remove(oldest);
        }
    }

    /// <summary>Merges a handed-over download count: the larger count wins (counts only grow).</summary>
    public void Merge(SwarmDownloads downloads)
    {
        var swarms = _partitions[PartitionOf(downloads.InfoHash)] ??= [];
        var swarm = GetOrAdd(swarms, downloads.InfoHash);
        swarm.Downloaded = Math.Max(swarm.Downloaded, downloads.Downloaded);
    }

    /// <summary>Removes peers last seen before <paramref name="cutoff"/> (O(expired) per swarm), and swarms left empty.</summary>
    public int RemoveExpired(int cutoff)
    {
        var removed = 0;
        foreach (var swarms in _partitions)
        {
            if (swarms is null) continue;
            List<Id20>? empty = null;
            foreach (var (infoHash, swarm) in swarms)
            {
                removed += swarm.RemoveExpired(cutoff);
                if (swarm.Count == 0 && swarm.Downloaded == 0) (empty ??= []).Add(infoHash);
            }
            if (empty is null) continue;
            foreach (var infoHash in empty) swarms.Remove(infoHash);
            SwarmCount -= empty.Count;
        }
        PeerCount -= removed;
        return removed;
    }

    /// <summary>Forgets a partition this node no longer holds.</summary>
    public void Drop(int partition)
    {
        _removals[partition] = null;
        var swarms = _partitions[partition];
        if (swarms is null) return;
        foreach (var swarm in swarms.Values) PeerCount -= swarm.Count;
        SwarmCount -= swarms.Count;
        _partitions[partition] = null;
    }

    public IEnumerable<(Id20 InfoHash, Swarm Swarm)> SwarmsOf(int partition)
    {
        var swarms = _partitions[partition];
        if (swarms is null) yield break;
        foreach (var (infoHash, swarm) in swarms) yield return (infoHash, swarm);
    }

    /// <summary>
    /// A partition's state as handover chunks of at most <paramref name="chunk"/> changes: its peers
    /// (oldest announce first per swarm), then its remembered removals, so that a stop one holder
    /// saw while cut off from the other also removes the peer there (newest wins, as for replicas).
    /// </summary>
    public IEnumerable<(PeerChange[] Peers, SwarmDownloads[] Downloads)> Snapshot(int partition, int chunk)
    {
        var peers = new List<PeerChange>(chunk);
        var downloads = new List<SwarmDownloads>();
        foreach (var (infoHash, swarm) in SwarmsOf(partition))
        {
            if (swarm.Downloaded > 0) downloads.Add(new SwarmDownloads(infoHash, swarm.Downloaded));
            foreach (var (peerId, address, port, seeder, lastSeen) in swarm.Peers())
            {
                peers.Add(new PeerChange(infoHash, peerId, address, port, seeder, lastSeen, Removed: false, Completed: false));
                if (peers.Count < chunk) continue;
                yield return ([.. peers], [.. downloads]);
                peers.Clear();
                downloads.Clear();
            }
        }
        foreach (var ((infoHash, peerId), stamp) in _removals[partition] ?? [])
        {
            peers.Add(new PeerChange(infoHash, peerId, default, 0, false, stamp, Removed: true, Completed: false));
            if (peers.Count < chunk) continue;
            yield return ([.. peers], [.. downloads]);
            peers.Clear();
            downloads.Clear();
        }
        if (peers.Count > 0 || downloads.Count > 0) yield return ([.. peers], [.. downloads]);
    }

    private Swarm GetOrAdd(Dictionary<Id20, Swarm> swarms, Id20 infoHash)
    {
        if (swarms.TryGetValue(infoHash, out var swarm)) return swarm;
        swarms[infoHash] = swarm = new Swarm();
        SwarmCount++;
        return swarm;
    }

    private void DropIfEmpty(Dictionary<Id20, Swarm> swarms, Id20 infoHash, Swarm swarm)
    {
        if (swarm.Count > 0 || swarm.Downloaded > 0) return;
        swarms.Remove(infoHash);
        SwarmCount--;
    }
}
