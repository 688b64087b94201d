using System.Net;

namespace Actors.Torrent.Tracker;

/// <summary>
/// This node's index of the swarms of one shard: info-hash → <see cref="Swarm"/>. It answers
/// announces in O(numwant) and scrapes in O(1) per swarm, where reading the replicated
/// <c>LWWDictionary</c> of the shard would cost O(peers in the shard). Plain data, no actors: the
/// <see cref="SwarmRegistry"/> updates it at once for its own announces and merges the replicated
/// value into it when the replicator reports a change.
/// </summary>
public sealed class SwarmIndex
{
    private readonly Dictionary<string, Swarm> _swarms = new(StringComparer.Ordinal);
    private int _generation;

    public int PeerCount { get; private set; }

    public IReadOnlyCollection<string> InfoHashes => _swarms.Keys;

    public Swarm? Find(string infoHash) => _swarms.GetValueOrDefault(infoHash);

    /// <summary>Adds or replaces a peer.</summary>
    public void Set(string infoHash, string peerId, PeerEntry entry)
    {
        if (!_swarms.TryGetValue(infoHash, out var swarm)) _swarms[infoHash] = swarm = new Swarm();
        if (swarm.Set(peerId, entry, _generation)) PeerCount++;
    }

    public void Remove(string infoHash, string peerId)
    {
        if (!_swarms.TryGetValue(infoHash, out var swarm) || !swarm.Remove(peerId)) return;
        PeerCount--;
        if (swarm.Count == 0) _swarms.Remove(infoHash);
    }

    /// <summary>
    /// Makes the index hold exactly the live entries of <paramref name="replicated"/> (keys are
    /// info-hash hex + peer-id hex; entries last seen before <paramref name="cutoff"/> count as
    /// absent). Unchanged peers are left alone, so a merge allocates only for what changed.
    /// </summary>
    public void MergeFrom(IEnumerable<KeyValuePair<string, PeerEntry>> replicated, long cutoff)
    {
        var generation = ++_generation;
        var live = 0;
        foreach (var (key, entry) in replicated)
        {
            if (entry.LastSeen < cutoff || key.Length <= InfoHashHexLength) continue;
            var infoHash = key[..InfoHashHexLength];
            if (!_swarms.TryGetValue(infoHash, out var swarm)) _swarms[infoHash] = swarm = new Swarm();
            if (swarm.Set(key[InfoHashHexLength..], entry, generation)) PeerCount++;
            live++;
        }
        if (live == PeerCount) return;
        // Some peers are gone from the replicated value (stopped or pruned elsewhere): sweep them.
        foreach (var (infoHash, swarm) in _swarms.ToList())
        {
            PeerCount -= swarm.RemoveOlderThan(generation);
            if (swarm.Count == 0) _swarms.Remove(infoHash);
        }
    }

    /// <summary>Removes peers last seen before <paramref name="cutoff"/> and returns their replicated keys.</summary>
    public List<string> RemoveExpired(long cutoff)
    {
        var expired = new List<string>();
        foreach (var (infoHash, swarm) in _swarms.ToList())
        {
            foreach (var peerId in swarm.ExpiredPeerIds(cutoff)) expired.Add(infoHash + peerId);
            PeerCount -= swarm.RemoveExpired(cutoff);
            if (swarm.Count == 0) _swarms.Remove(infoHash);
        }
        return expired;
    }

    private const int InfoHashHexLength = 40;
}

/// <summary>
/// The peers of one swarm in a list with a position map: set and remove are O(1) (removal moves
/// the last peer into the hole), and random sampling is O(numwant). Seeders and leechers are
/// counted as peers come and go.
/// </summary>
public sealed class Swarm
{
    private readonly List<IndexedPeer> _peers = [];
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);

    public int Count => _peers.Count;
    public int Complete { get; private set; }
    public int Incomplete { get; private set; }

    public bool TryGet(string peerId, out PeerEntry entry)
    {
        var found = _positions.TryGetValue(peerId, out var at);
        entry = found ? _peers[at].Entry : null!;
        return found;
    }

    /// <summary>Returns true when the peer is new.</summary>
    internal bool Set(string peerId, PeerEntry entry, int generation)
    {
        if (_positions.TryGetValue(peerId, out var at))
        {
            var peer = _peers[at];
            peer.Generation = generation;
            if (peer.Entry == entry) return false;
            Tally(peer.Entry, -1);
            // The parsed address is kept when it did not change: parsing is the costly part.
            _peers[at] = new IndexedPeer(peerId, entry, peer.Entry.Ip == entry.Ip ? peer.Address : IPAddress.Parse(entry.Ip), generation);
            Tally(entry, +1);
            return false;
        }
        _positions[peerId] = _peers.Count;
        _peers.Add(new IndexedPeer(peerId, entry, IPAddress.Parse(entry.Ip), generation));
        Tally(entry, +1);
        return true;
    }

    internal bool Remove(string peerId)
    {
        if (!_positions.Remove(peerId, out var at)) return false;
        Tally(_peers[at].Entry, -1);
        var last = _peers.Count - 1;
        if (at != last)
        {
            _peers[at] = _peers[last];
            _positions[_peers[at].PeerId] = at;
        }
        _peers.RemoveAt(last);
        return true;
    }

    internal int RemoveOlderThan(int generation) => RemoveWhere(p => p.Generation < generation);

    internal int RemoveExpired(long cutoff) => RemoveWhere(p => p.Entry.LastSeen < cutoff);

    internal IEnumerable<string> ExpiredPeerIds(long cutoff) =>
        _peers.Where(p => p.Entry.LastSeen < cutoff).Select(p => p.PeerId).ToList();

    private int RemoveWhere(Func<IndexedPeer, bool> predicate)
    {
        var doomed = _peers.Where(predicate).Select(p => p.PeerId).ToList();
        foreach (var peerId in doomed) Remove(peerId);
        return doomed.Count;
    }

    private void Tally(PeerEntry entry, int delta)
    {
        if (entry.IsSeeder) Complete += delta; else Incomplete += delta;
    }

    /// <summary>
    /// Up to <paramref name="wanted"/> random live peers other than the asker (its peer id, or
    /// its address and port under another id). O(wanted): small swarms are shuffled whole, large
    /// ones sampled by random position with a bounded number of draws.
    /// </summary>
    public List<SwarmPeer> Sample(string askerPeerId, IPAddress askerIp, int askerPort, int wanted, long cutoff)
    {
        var result = new List<SwarmPeer>(Math.Min(wanted, _peers.Count));
        if (wanted <= 0) return result;
        bool Eligible(IndexedPeer p) => p.Entry.LastSeen >= cutoff && p.PeerId != askerPeerId
            && !(p.Entry.Port == askerPort && p.Address.Equals(askerIp));

        if (_peers.Count <= 2 * wanted)
        {
            foreach (var peer in _peers)
                if (Eligible(peer)) result.Add(new SwarmPeer(peer.PeerId, peer.Address, peer.Entry.Port));
            for (var i = 0; i < Math.Min(wanted, result.Count); i++)
            {
                var j = Random.Shared.Next(i, result.Count);
                (result[i], result[j]) = (result[j], result[i]);
            }
            if (result.Count > wanted) result.RemoveRange(wanted, result.Count - wanted);
            return result;
        }

        var drawn = new HashSet<int>();
        for (var draws = 0; result.Count < wanted && draws < 4 * wanted + 16; draws++)
        {
            var at = Random.Shared.Next(_peers.Count);
            if (!drawn.Add(at)) continue;
            var peer = _peers[at];
            if (Eligible(peer)) result.Add(new SwarmPeer(peer.PeerId, peer.Address, peer.Entry.Port));
        }
        return result;
    }

    private sealed class IndexedPeer(string peerId, PeerEntry entry, IPAddress address, int generation)
    {
        public string PeerId { get; } = peerId;
        public PeerEntry Entry { get; } = entry;
        public IPAddress Address { get; } = address;
        /// <summary>The last merge that saw this peer in the replicated value (or the local write's).</summary>
        public int Generation { get; set; } = generation;
    }
}
