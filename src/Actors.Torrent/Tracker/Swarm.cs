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
/// The peers of one swarm, compactly: <see cref="PeerRecord"/> structs in chunks of 512 (28 KB,
/// below the large-object heap, so the GC can compact them and growth never copies the swarm;
/// the first chunk starts at 4 records for the many small swarms), an open-addressing index of
/// positions keyed by peer id (an int per slot, at most half full: 8–16 bytes per peer; set and
/// remove are O(1), removal moves the last record into the hole), and an intrusive list in
/// last-announce order (an announce moves its peer to the tail in O(1); expiry removes from the
/// head and stops at the first live peer, so it costs O(expired), never a scan). Seeders and
/// leechers are counted as peers come and go. Plain data, owned by one actor.
/// </summary>
public sealed class Swarm
{
    private const int None = -1;
    private const int ChunkShift = 9;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;
    private PeerRecord[][] _chunks = [new PeerRecord[4]];
    /// <summary>Position + 1 of the peer whose id hashes here (linear probing); 0 is empty.</summary>
    private int[] _slots = new int[8];
    private int _count;
    private int _head = None;
    private int _tail = None;

    public int Count => _count;
    public int Complete { get; private set; }
    public int Incomplete { get; private set; }
    /// <summary>Completed downloads (BEP 48 <c>downloaded</c>).</summary>
    public long Downloaded { get; set; }

    /// <summary>The last-seen time of the oldest peer, or null when empty.</summary>
    public int? OldestLastSeen => _head == None ? null : At(_head).LastSeen;

    public bool Contains(Id20 peerId) => FindSlot(peerId) >= 0;

    private ref PeerRecord At(int position) => ref _chunks[position >> ChunkShift][position & ChunkMask];

    /// <summary>The last-seen time (the change stamp) of a peer, or null when it is not here.</summary>
    public int? LastSeenOf(Id20 peerId)
    {
        var slot = FindSlot(peerId);
        return slot < 0 ? null : At(_slots[slot] - 1).LastSeen;
    }

    /// <summary>
    /// Adds or updates a peer, newest wins: an update stamped before the record's
    /// <paramref name="lastSeen"/> is ignored, whatever order changes arrive in (two holders apply
    /// each other's changes after their own). Equal stamps — concurrent changes on two holders in
    /// the same second — are broken by the content (seeder, then port, then address: the larger
    /// wins), so every holder keeps the same record. Returns 1 when the peer is new.
    /// </summary>
    public int Upsert(Id20 peerId, PeerAddress address, int port, bool seeder, int lastSeen)
    {
        var slot = FindSlot(peerId);
        if (slot >= 0)
        {
            var at = _slots[slot] - 1;
            ref var peer = ref At(at);
            if (lastSeen < peer.LastSeen || (lastSeen == peer.LastSeen && !WinsTie(seeder, port, address, peer))) return 0;
            if (peer.Seeder != seeder)
            {
                Tally(peer.Seeder, -1);
                Tally(seeder, +1);
            }
            peer.Address = address;
            peer.Port = (ushort)port;
            peer.Seeder = seeder;
            peer.LastSeen = lastSeen;
            MoveToTail(at);
            return 0;
        }
        if ((_count + 1) * 2 > _slots.Length)
        {
            Rehash(_slots.Length * 2);
            slot = FindSlot(peerId);
        }
        var position = _count;
        EnsureRoomFor(position);
        _count++;
        At(position) = new PeerRecord
        {
            PeerId = peerId, Address = address, Port = (ushort)port, Seeder = seeder, LastSeen = lastSeen,
            Prev = _tail, Next = None,
        };
        if (_tail != None) At(_tail).Next = position; else _head = position;
        _tail = position;
        _slots[~slot] = position + 1;
        Tally(seeder, +1);
        return 1;
    }

    /// <summary>
    /// Removes a peer unless its record is newer than <paramref name="stamp"/> (a removal wins
    /// over an update of the same second); returns 1 when it was removed.
    /// </summary>
    public int Remove(Id20 peerId, int stamp = int.MaxValue)
    {
        var slot = FindSlot(peerId);
        if (slot < 0 || At(_slots[slot] - 1).LastSeen > stamp) return 0;
        RemoveAt(_slots[slot] - 1, slot);
        return 1;
    }

    /// <summary>The deterministic order of two same-second updates of one peer: the same on every holder.</summary>
    private static bool WinsTie(bool seeder, int port, PeerAddress address, in PeerRecord peer) =>
        seeder != peer.Seeder ? seeder
        : port != peer.Port ? port > peer.Port
        : address.Hi != peer.Address.Hi ? address.Hi > peer.Address.Hi
        : address.Lo > peer.Address.Lo;

    /// <summary>Removes the peers last seen before <paramref name="cutoff"/>, oldest first; returns how many.</summary>
    public int RemoveExpired(int cutoff)
    {
        var removed = 0;
        while (_head != None && At(_head).LastSeen < cutoff)
        {
            RemoveAt(_head, FindSlot(At(_head).PeerId));
            removed++;
        }
        return removed;
    }

    /// <summary>Every peer, oldest announce first (a handover streams them in this order).</summary>
    public IEnumerable<(Id20 PeerId, PeerAddress Address, int Port, bool Seeder, int LastSeen)> Peers()
    {
        for (var at = _head; at != None;)
        {
            var peer = At(at);
            yield return (peer.PeerId, peer.Address, peer.Port, peer.Seeder, peer.LastSeen);
            at = peer.Next;
        }
    }

    /// <summary>
    /// Up to <paramref name="wanted"/> random live peers other than the asker (its peer id, or its
    /// address and port under another id), in O(wanted): a walk over the positions from a random
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
            ref readonly var peer = ref At(at);
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

    private static int Hash(Id20 id) =>
        (int)((id.A ^ id.B * 0x9E3779B97F4A7C15UL ^ id.C * 0xC2B2AE3D27D4EB4FUL) * 0x9E3779B97F4A7C15UL >> 33);

    /// <summary>The slot holding <paramref name="peerId"/>, or the complement of the empty slot where it would go.</summary>
    private int FindSlot(Id20 peerId)
    {
        var mask = _slots.Length - 1;
        for (var slot = Hash(peerId) & mask; ; slot = (slot + 1) & mask)
        {
            var value = _slots[slot];
            if (value == 0) return ~slot;
            if (At(value - 1).PeerId == peerId) return slot;
        }
    }

    /// <summary>Empties a slot and shifts back the entries after it that would no longer be found (linear probing).</summary>
    private void DeleteSlot(int slot)
    {
        var mask = _slots.Length - 1;
        var hole = slot;
        _slots[hole] = 0;
        for (var next = (hole + 1) & mask; _slots[next] != 0; next = (next + 1) & mask)
        {
            var home = Hash(At(_slots[next] - 1).PeerId) & mask;
            // An entry whose home lies cyclically in (hole, next] is still reachable: it stays.
            var stays = hole <= next ? hole < home && home <= next : hole < home || home <= next;
            if (stays) continue;
            _slots[hole] = _slots[next];
            _slots[next] = 0;
            hole = next;
        }
    }

    private void Rehash(int capacity)
    {
        _slots = new int[capacity];
        var mask = capacity - 1;
        for (var position = 0; position < _count; position++)
        {
            var slot = Hash(At(position).PeerId) & mask;
            while (_slots[slot] != 0) slot = (slot + 1) & mask;
            _slots[slot] = position + 1;
        }
    }

    private void EnsureRoomFor(int position)
    {
        var chunk = position >> ChunkShift;
        if (chunk == _chunks.Length)
        {
            Array.Resize(ref _chunks, chunk + 1);
            _chunks[chunk] = new PeerRecord[ChunkSize];
        }
        else if ((position & ChunkMask) == _chunks[chunk].Length)
        {
            Array.Resize(ref _chunks[chunk], Math.Min(ChunkSize, _chunks[chunk].Length * 2));
        }
    }

    private void MoveToTail(int at)
    {
        if (at == _tail) return;
        Unlink(at);
        ref var peer = ref At(at);
        peer.Prev = _tail;
        peer.Next = None;
        if (_tail != None) At(_tail).Next = at; else _head = at;
        _tail = at;
    }

    private void Unlink(int at)
    {
        var peer = At(at);
        if (peer.Prev != None) At(peer.Prev).Next = peer.Next; else _head = peer.Next;
        if (peer.Next != None) At(peer.Next).Prev = peer.Prev; else _tail = peer.Prev;
    }

    private void RemoveAt(int at, int slot)
    {
        Unlink(at);
        Tally(At(at).Seeder, -1);
        DeleteSlot(slot);
        var last = --_count;
        if (at != last)
        {
            // Move the last record into the hole and repoint its neighbours and its index slot.
            var moved = At(last);
            At(at) = moved;
            if (moved.Prev != None) At(moved.Prev).Next = at; else _head = at;
            if (moved.Next != None) At(moved.Next).Prev = at; else _tail = at;
            _slots[FindSlot(moved.PeerId)] = at + 1;
        }
        At(last) = default;
        // Keep one spare chunk; give back the rest, and shrink an index that is mostly empty.
        var chunksNeeded = (_count >> ChunkShift) + 1;
        if (_chunks.Length > chunksNeeded + 1) Array.Resize(ref _chunks, chunksNeeded + 1);
        if (_slots.Length > 64 && _count * 8 < _slots.Length) Rehash(_slots.Length / 2);
    }

    private void Tally(bool seeder, int delta)
    {
        if (seeder) Complete += delta; else Incomplete += delta;
    }
}
