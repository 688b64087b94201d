namespace Actors.Torrent.Peer.Seeding;

/// <summary>
/// BEP 16 super-seeding: a seed that hides what it has (no bitfield, or have-none) and reveals
/// pieces to each peer one <c>have</c> at a time, choosing pieces nobody holds or was given yet, so
/// that it uploads every piece about once and the leechers spread them. A peer is given its next
/// piece when it announces one it was given (libtorrent's non-strict mode: with a single leecher
/// the strict rule — wait until another peer announced it — would stall).
/// <para>
/// Only unchoked peers hold reveals: the torrent calls <see cref="Reveal"/> when it unchokes a
/// peer and again whenever <see cref="PeerHas"/> says the peer is ready for more, and
/// <see cref="Withdraw"/> when it chokes one, so the pieces a choked peer cannot fetch are given to
/// others. Pure state, no I/O: peers are opaque keys compared by reference (actor refs).
/// </para>
/// </summary>
public sealed class SuperSeeder
{
    private sealed class Peer
    {
        /// <summary>Every piece announced to this peer (a <c>have</c> cannot be taken back).</summary>
        public readonly HashSet<int> Revealed = new();
        /// <summary>Revealed pieces it still lacks and may fetch now: they reserve their piece.</summary>
        public readonly HashSet<int> Active = new();
    }

    private readonly int _pieceCount;
    private readonly Random _random;
    /// <summary>Peers that announced each piece.</summary>
    private readonly int[] _availability;
    /// <summary>Active reveals of each piece.</summary>
    private readonly int[] _reserved;
    private readonly Dictionary<object, Peer> _peers = new(ReferenceEqualityComparer.Instance);

    /// <param name="revealsPerPeer">Pieces an unchoked peer may fetch at once: two keep its requests flowing while it announces the first.</param>
    public SuperSeeder(int pieceCount, int revealsPerPeer = 2, Random? random = null)
    {
        if (revealsPerPeer < 1) throw new ArgumentOutOfRangeException(nameof(revealsPerPeer));
        _pieceCount = pieceCount;
        RevealsPerPeer = revealsPerPeer;
        _random = random ?? Random.Shared;
        _availability = new int[pieceCount];
        _reserved = new int[pieceCount];
    }

    public int RevealsPerPeer { get; }

    /// <summary>Announcements made so far, over all peers (figures, tests).</summary>
    public int RevealCount { get; private set; }

    /// <summary>Announcements made so far of a piece that another peer already held (figures, tests).</summary>
    public int RepeatCount { get; private set; }

    /// <summary>Peers that announced <paramref name="index"/>.</summary>
    public int Availability(int index) => _availability[index];

    /// <summary>The pieces <paramref name="peer"/> may fetch now (revealed, lacking, not withdrawn).</summary>
    public IReadOnlyCollection<int> ActiveOf(object peer) => _peers.TryGetValue(peer, out var p) ? p.Active : [];

    /// <summary>The pieces ever announced to <paramref name="peer"/>.</summary>
    public IReadOnlyCollection<int> RevealedTo(object peer) => _peers.TryGetValue(peer, out var p) ? p.Revealed : [];

    /// <summary>A peer's pieces, first (bitfield, have-all/none) or replaced: availability follows, reveals it now holds are done.</summary>
    public void PeerPieces(object peer, PieceSet? before, PieceSet now)
    {
        if (before is not null)
            foreach (var i in before) _availability[i]--;
        foreach (var i in now) _availability[i]++;
        if (!_peers.TryGetValue(peer, out var p)) return;
        foreach (var i in p.Active.Where(i => now[i]).ToArray()) Release(p, i);
    }

    /// <summary>
    /// The peer announced <paramref name="index"/>. True when that was one of its active reveals:
    /// it fetched what it was given and is ready for another (call <see cref="Reveal"/>).
    /// </summary>
    public bool PeerHas(object peer, int index)
    {
        _availability[index]++;
        return _peers.TryGetValue(peer, out var p) && p.Active.Contains(index) && Release(p, index);
    }

    /// <summary>The peer was choked: its reveals no longer reserve their pieces.</summary>
    public void Withdraw(object peer)
    {
        if (!_peers.TryGetValue(peer, out var p)) return;
        foreach (var i in p.Active.ToArray()) Release(p, i);
    }

    /// <summary>The peer left: its pieces no longer count, its reveals are free.</summary>
    public void PeerLeft(object peer, PieceSet has)
    {
        foreach (var i in has) _availability[i]--;
        Withdraw(peer);
        _peers.Remove(peer);
    }

    /// <summary>
    /// Tops the peer's reveals up to <see cref="RevealsPerPeer"/>: returns the pieces to announce to
    /// it now (each a <c>have</c>). Pieces it was shown before and still lacks count first when
    /// nobody else holds or fetches them; then the pieces fewest peers hold, ties at random —
    /// pieces nobody has yet — never one another peer is fetching from us, and one that peers
    /// hold only with <paramref name="allowRepeats"/> (for a peer that gets nothing from the others),
    /// the least held first. Empty when there is no such piece: the peer then gets what it lacks
    /// from the others.
    /// </summary>
    public IReadOnlyList<int> Reveal(object peer, PieceSet has, bool allowRepeats = false)
    {
        if (!_peers.TryGetValue(peer, out var p)) _peers[peer] = p = new Peer();
        var shown = new List<int>();
        // A piece shown while the peer was choked, still unique to us: it may fetch it again now.
        foreach (var i in p.Revealed)
        {
            if (p.Active.Count >= RevealsPerPeer) break;
            if (!has[i] && !p.Active.Contains(i) && _availability[i] + _reserved[i] == 0) Reserve(p, i);
        }
        while (p.Active.Count < RevealsPerPeer)
        {
            var index = Rarest(p, has, allowRepeats);
            if (index < 0) break;
            if (_availability[index] > 0) RepeatCount++;
            Reserve(p, index);
            p.Revealed.Add(index);
            RevealCount++;
            shown.Add(index);
        }
        return shown;
    }

    private int Rarest(Peer p, PieceSet has, bool allowRepeats)
    {
        var best = -1;
        var bestScore = int.MaxValue;
        var ties = 0;
        for (var i = 0; i < _pieceCount; i++)
        {
            // A piece another peer is fetching from us now is never shown twice: two copies would
            // share our upload with the pieces still unique to us, and delay the whole swarm.
            if (has[i] || p.Revealed.Contains(i) || _reserved[i] > 0) continue;
            var score = _availability[i];
            if (score < bestScore)
            {
                best = i;
                bestScore = score;
                ties = 1;
            }
            else if (score == bestScore && _random.Next(++ties) == 0)
            {
                best = i; // reservoir sampling: a uniform choice among equals
            }
        }
        // A second copy of a piece only for a peer that gets nothing from the others: our upload is
        // for the pieces only we have, and the peers spread the rest.
        return bestScore > 0 && !allowRepeats ? -1 : best;
    }

    private void Reserve(Peer p, int index)
    {
        p.Active.Add(index);
        _reserved[index]++;
    }

    private bool Release(Peer p, int index)
    {
        if (!p.Active.Remove(index)) return false;
        _reserved[index]--;
        return true;
    }
}
