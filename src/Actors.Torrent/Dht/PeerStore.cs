using System.Net;

namespace Actors.Torrent.Dht;

/// <summary>
/// The peers announced to this node (announce_peer), per info-hash, each forgotten after
/// <see cref="Ttl"/> unless announced again. Bounded twice: peers per info-hash and info-hashes in
/// all; past a bound the oldest announcement is dropped, so a flood costs memory only up to the bound.
/// </summary>
public sealed class PeerStore(int maxPeersPerInfoHash = 200, int maxInfoHashes = 5000, TimeSpan? ttl = null)
{
    private readonly Dictionary<NodeId, Dictionary<IPEndPoint, DateTime>> _swarms = new();

    public TimeSpan Ttl { get; } = ttl ?? TimeSpan.FromMinutes(30);

    public int InfoHashCount => _swarms.Count;

    public int PeerCount => _swarms.Values.Sum(s => s.Count);

    public void Add(NodeId infoHash, IPEndPoint peer, DateTime now)
    {
        if (!_swarms.TryGetValue(infoHash, out var swarm))
        {
            if (_swarms.Count >= maxInfoHashes)
            {
                // The swarm whose newest announcement is oldest goes.
                var stalest = _swarms.MinBy(s => s.Value.Values.Max()).Key;
                _swarms.Remove(stalest);
            }
            _swarms[infoHash] = swarm = new Dictionary<IPEndPoint, DateTime>();
        }
        if (!swarm.ContainsKey(peer) && swarm.Count >= maxPeersPerInfoHash)
        {
            swarm.Remove(swarm.MinBy(p => p.Value).Key);
        }
        swarm[CompactEncoding.Normalize(peer)] = now;
    }

    /// <summary>Up to <paramref name="max"/> live peers for the info-hash, newest first.</summary>
    public IReadOnlyList<IPEndPoint> Get(NodeId infoHash, int max, DateTime now) =>
        _swarms.TryGetValue(infoHash, out var swarm)
            ? swarm.Where(p => now - p.Value < Ttl).OrderByDescending(p => p.Value).Take(max).Select(p => p.Key).ToList()
            : [];

    /// <summary>Forgets announcements older than the TTL.</summary>
    public void Expire(DateTime now)
    {
        foreach (var (hash, swarm) in _swarms.ToList())
        {
            foreach (var (peer, seen) in swarm.ToList())
                if (now - seen >= Ttl) swarm.Remove(peer);
            if (swarm.Count == 0) _swarms.Remove(hash);
        }
    }
}
