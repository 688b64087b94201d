using System.Net;

namespace Actors.Torrent.Tracker;

/// <summary>A peer as it appears in an announce answer (and in a forwarded answer between nodes).</summary>
public readonly record struct SwarmPeer(Id20 PeerId, PeerAddress Address, int Port)
{
    public SwarmPeer(string peerIdHex, IPAddress ip, int port) : this(Id20.FromHex(peerIdHex), PeerAddress.From(ip), port) { }

    public IPAddress Ip => Address.ToIPAddress();
}

/// <summary>
/// One peer of a swarm: 56 bytes, no references. <see cref="Prev"/>/<see cref="Next"/> link the
/// swarm's peers in the order of their last announce (oldest first), so expiry pops from the head.
/// </summary>
internal struct PeerRecord
{
    public Id20 PeerId;
    public PeerAddress Address;
    public int LastSeen;
    public int Prev;
    public int Next;
    public ushort Port;
    public bool Seeder;
}

/// <summary>
/// The peers of one swarm, compactly: a dense array of <see cref="PeerRecord"/> structs (random
/// sampling by position), a peer id → position map (set and remove O(1); removal moves the last
/// record into the hole), and an intrusive list in last-announce order (an announce moves its
/// peer to the tail in O(1); expiry removes from the head and stops at the first live peer, so it
/// costs O(expired), never a scan). Seeders and leechers are counted as peers come and go.
/// Plain data, owned by one actor.
/// </summary>
public sealed class Swarm
{
    private const int None = -1;
    private PeerRecord[] _peers = new PeerRecord[2];
    private readonly Dictionary<Id20, int> _positions = [];
    private int _count;
    private int _head = None;
    private int _tail = None;

    public int Count => _count;
    public int Complete { get; private set; }
    public int Incomplete { get; private set; }
    /// <summary>Completed downloads (BEP 48 <c>downloaded</c>).</summary>
    public long Downloaded { get; set; }

    /// <summary>The last-seen time of the oldest peer, or null when empty.</summary>
    public int? OldestLastSeen => _head == None ? null : _peers[_head].LastSeen;

    public bool Contains(Id20 peerId) => _positions.ContainsKey(peerId);

    /// <summary>
    /// Adds or updates a peer; returns 1 when it is new. An update with an older
    /// <paramref name="lastSeen"/> than the record's (a late copy) is ignored when
    /// <paramref name="onlyIfNewer"/>, otherwise it refreshes address, port and role but keeps
    /// the newer time.
    /// </summary>
    public int Upsert(Id20 peerId, PeerAddress address, int port, bool seeder, int lastSeen, bool onlyIfNewer = false)
    {
        if (_positions.TryGetValue(peerId, out var at))
        {
            ref var peer = ref _peers[at];
            if (onlyIfNewer && lastSeen <= peer.LastSeen) return 0;
            if (peer.Seeder != seeder)
            {
                Tally(peer.Seeder, -1);
                Tally(seeder, +1);
            }
            peer.Address = address;
            peer.Port = (ushort)port;
            peer.Seeder = seeder;
            if (lastSeen >= peer.LastSeen)
            {
                peer.LastSeen = lastSeen;
                MoveToTail(at);
            }
            return 0;
        }
        if (_count == _peers.Length) Array.Resize(ref _peers, _peers.Length * 2);
        at = _count++;
        _peers[at] = new PeerRecord
        {
            PeerId = peerId, Address = address, Port = (ushort)port, Seeder = seeder, LastSeen = lastSeen,
            Prev = _tail, Next = None,
        };
        if (_tail != None) _peers[_tail].Next = at; else _head = at;
        _tail = at;
        _positions[peerId] = at;
        Tally(seeder, +1);
        return 1;
    }

    /// <summary>Removes a peer; returns 1 when it was there.</summary>
    public int Remove(Id20 peerId)
    {
        if (!_positions.TryGetValue(peerId, out var at)) return 0;
        RemoveAt(at);
        return 1;
    }

    /// <summary>Removes the peers last seen before <paramref name="cutoff"/>, oldest first; returns how many.</summary>
    public int RemoveExpired(int cutoff)
    {
        var removed = 0;
        while (_head != None && _peers[_head].LastSeen < cutoff)
        {
            RemoveAt(_head);
            removed++;
        }
        return removed;
    }

    /// <summary>Every peer, oldest announce first (a handover streams them in this order).</summary>
    public IEnumerable<(Id20 PeerId, PeerAddress Address, int Port, bool Seeder, int LastSeen)> Peers()
    {
        for (var at = _head; at != None;)
        {
            var peer = _peers[at];
            yield return (peer.PeerId, peer.Address, peer.Port, peer.Seeder, peer.LastSeen);
            at = peer.Next;
        }
    }

    /// <summary>
    /// Up to <paramref name="wanted"/> random live peers other than the asker (its peer id, or its
    /// address and port under another id), in O(wanted): a walk over the dense array from a random
    /// start with a random stride coprime to the count visits distinct peers without a set.
    /// </summary>
    public SwarmPeer[] Sample(Id20 askerId, PeerAddress askerAddress, int askerPort, int wanted, int cutoff)
    {
        if (wanted <= 0 || _count == 0) return [];
        var result = new SwarmPeer[Math.Min(wanted, _count)];
        var found = 0;
        var start = Random.Shared.Next(_count);
        var stride = _count == 1 ? 1 : Random.Shared.Next(1, _count);
        while (Gcd(stride, _count) != 1) stride++;
        // Expired peers not yet pruned and the asker are skipped; the walk is bounded by the count.
        for (int visited = 0, at = start; visited < _count && found < result.Length; visited++, at = (int)((at + (long)stride) % _count))
        {
            ref readonly var peer = ref _peers[at];
            if (peer.LastSeen < cutoff || peer.PeerId == askerId || (peer.Port == askerPort && peer.Address == askerAddress)) continue;
            result[found++] = new SwarmPeer(peer.PeerId, peer.Address, peer.Port);
        }
        return found == result.Length ? result : result[..found];
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }

    private void MoveToTail(int at)
    {
        if (at == _tail) return;
        Unlink(at);
        ref var peer = ref _peers[at];
        peer.Prev = _tail;
        peer.Next = None;
        if (_tail != None) _peers[_tail].Next = at; else _head = at;
        _tail = at;
    }

    private void Unlink(int at)
    {
        var peer = _peers[at];
        if (peer.Prev != None) _peers[peer.Prev].Next = peer.Next; else _head = peer.Next;
        if (peer.Next != None) _peers[peer.Next].Prev = peer.Prev; else _tail = peer.Prev;
    }

    private void RemoveAt(int at)
    {
        Unlink(at);
        Tally(_peers[at].Seeder, -1);
        _positions.Remove(_peers[at].PeerId);
        var last = --_count;
        if (at != last)
        {
            // Move the last record into the hole and repoint its neighbours and its map entry.
            var moved = _peers[last];
            _peers[at] = moved;
            if (moved.Prev != None) _peers[moved.Prev].Next = at; else _head = at;
            if (moved.Next != None) _peers[moved.Next].Prev = at; else _tail = at;
            _positions[moved.PeerId] = at;
        }
        _peers[last] = default;
        if (_count > 8 && _count < _peers.Length / 4) Array.Resize(ref _peers, _peers.Length / 2);
    }

    private void Tally(bool seeder, int delta)
    {
        if (seeder) Complete += delta; else Incomplete += delta;
    }
}
