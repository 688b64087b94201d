using System.Buffers;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Peer.Picking;

/// <summary>One 16 KiB (or shorter, at the end of the torrent) block of a piece.</summary>
public sealed record BlockRequest(int Index, int Begin, int Length);

/// <summary>
/// Chooses which blocks to request from which peer, and assembles received blocks into pieces.
/// Pure state, no I/O: the torrent actor owns one. Peers are opaque keys.
/// <list type="bullet">
/// <item>Partly downloaded pieces are finished first (fewer pieces in memory, sooner <c>have</c>s).</item>
/// <item>New pieces: random for the first few (something to trade quickly) unless the peer is a
/// seed, then rarest first among the peer's pieces, ties broken at random.</item>
/// <item>From a seed, not what other peers that unchoke us hold (the <c>elsewhere</c> of
/// <see cref="Pick"/>): the seed's upload is the swarm's scarcest resource, and a piece it sends
/// twice is time the whole swarm waits.</item>
/// <item>End-game: when every missing block is already requested, a peer may request blocks
/// other peers were asked for; the first copy wins and the others are cancelled.</item>
/// </list>
/// </summary>
public sealed class PiecePicker
{
    private readonly int _pieceCount;
    private readonly Func<int, int> _pieceSize;
    private readonly Random _random;
    private readonly int _randomFirstPieces;
    private readonly int _maxActivePieces;
    private readonly int[] _availability;
    private readonly Dictionary<int, ActivePiece> _active = new();
    private readonly Func<long> _clock;

    /// <summary>
    /// How long a block must have been asked of one peer before an idle one may be asked for a
    /// second copy (<see cref="Pick"/>, <c>shareSlowBlocks</c>). Younger blocks are on their way:
    /// copies of them were mostly waste (a 100-leecher swarm in one CPU-bound process uploaded 18 %
    /// more without it).
    /// </summary>
    public static readonly TimeSpan ShareSlowerThan = TimeSpan.FromSeconds(1);

    /// <param name="clock">Stopwatch timestamps (tests pass their own).</param>
    public PiecePicker(int pieceCount, int pieceLength, Func<int, int> pieceSize, Random? random = null,
        int randomFirstPieces = 4, long maxActiveBytes = 64L * 1024 * 1024, Func<long>? clock = null)
    {
        _clock = clock ?? System.Diagnostics.Stopwatch.GetTimestamp;
        _pieceCount = pieceCount;
        _pieceSize = pieceSize;
        _random = random ?? Random.Shared;
        _randomFirstPieces = randomFirstPieces;
        _maxActivePieces = (int)Math.Max(8, maxActiveBytes / pieceLength);
        _availability = new int[pieceCount];
        Rarity = new PieceRarity(_availability);
        Have = new PieceSet(pieceCount);
    }

    /// <summary>These availability counts as the torrent's connections read them (from other threads).</summary>
    public PieceRarity Rarity { get; }

    /// <summary>The verified pieces.</summary>
    public PieceSet Have { get; private set; }

    public bool IsComplete => Have.IsComplete;

    public bool InEndGame { get; private set; }

    public int ActivePieces => _active.Count;

    public void SetHave(PieceSet have) => Have = have.Clone();

    public int Availability(int index) => _availability[index];

    public void PeerAdded(PieceSet has)
    {
        foreach (var i in has) _availability[i]++;
    }

    public void PeerRemoved(object peer, PieceSet has)
    {
        Forget(has);
        Release(peer);
    }

    /// <summary>Takes a peer's pieces out of the availability counts (it left, or replaced its bitfield).</summary>
    public void Forget(PieceSet has)
    {
        foreach (var i in has) _availability[i]--;
    }

    public void PeerHas(int index) => _availability[index]++;

    /// <summary>True when <paramref name="has"/> holds a piece we still need that at most <paramref name="maxAvailability"/> connected peers have.</summary>
    public bool HoldsRarePiece(PieceSet has, int maxAvailability)
    {
        if (has.Count == 0 || Have.IsComplete) return false;
        for (var i = 0; i < _pieceCount; i++)
            if (has[i] && !Have[i] && _availability[i] <= maxAvailability) return true;
        return false;
    }

    /// <summary>True when <paramref name="has"/> holds a piece we still need.</summary>
    public bool WantsAnyOf(PieceSet has)
    {
        if (has.Count == 0 || Have.IsComplete) return false;
        for (var i = 0; i < _pieceCount; i++)
            if (has[i] && !Have[i]) return true;
        return false;
    }

    /// <summary>
    /// Up to <paramref name="count"/> blocks to request from <paramref name="peer"/>, which has <paramref name="has"/>.
    /// <paramref name="elsewhere"/>: pieces to leave to other peers (what the non-seeds that unchoke
    /// us hold, when <paramref name="peer"/> is a seed), in the end-game too: those peers can be
    /// asked for the duplicates.
    /// </summary>
    public IReadOnlyList<BlockRequest> Pick(object peer, PieceSet has, int count, PieceSet? elsewhere = null, bool shareSlowBlocks = false)
    {
        var picked = new List<BlockRequest>();
        if (count <= 0 || Have.IsComplete) return picked;

        // 1. Finish pieces already started, the most complete first.
        foreach (var piece in _active.Values.Where(p => !p.Verifying && has[p.Index] && elsewhere?[p.Index] != true).OrderByDescending(p => p.Received))
        {
            piece.TakeUnrequested(peer, count - picked.Count, picked, _clock());
            if (picked.Count >= count) return picked;
        }

        // 2. Start new pieces.
        while (picked.Count < count && _active.Count < _maxActivePieces)
        {
            var index = ChooseNewPiece(has, elsewhere);
            if (index < 0) break;
            var piece = new ActivePiece(index, _pieceSize(index));
            _active.Add(index, piece);
            piece.TakeUnrequested(peer, count - picked.Count, picked, _clock());
        }
        if (picked.Count > 0) return picked;

        // 3. End-game: nothing is unrequested; ask this peer too for blocks others are fetching.
        InEndGame = _active.Count > 0 && !AnyUnstartedPiece();
        if (!InEndGame && !shareSlowBlocks) return picked;
        // 3b. Not the end-game, but this peer is idle and holds pieces we are fetching from others:
        // a second copy of their blocks (the first to arrive wins, the other is cancelled). In a
        // capped swarm every piece we lack is often already asked of busy peers, one block queue
        // each, while an unchoking peer that holds them sits idle.
        var (maxCopies, askedBefore) = InEndGame ? (3, long.MaxValue)
            : (2, _clock() - (long)(ShareSlowerThan.TotalSeconds * System.Diagnostics.Stopwatch.Frequency));
        foreach (var piece in _active.Values.Where(p => !p.Verifying && has[p.Index] && elsewhere?[p.Index] != true).OrderByDescending(p => p.Received))
        {
            piece.TakeDuplicates(peer, count - picked.Count, picked, maxCopies, askedBefore);
            if (picked.Count >= count) break;
        }
        return picked;
    }

    private bool AnyUnstartedPiece()
    {
        for (var i = 0; i < _pieceCount; i++)
            if (!Have[i] && !_active.ContainsKey(i)) return true;
        return false;
    }

    private int ChooseNewPiece(PieceSet has, PieceSet? elsewhere)
    {
        // From a seed, rarest first at once: a random piece would often be one other leechers
        // already hold, and the seed's upload is the swarm's scarcest resource.
        var random = Have.Count < _randomFirstPieces && !has.IsComplete;
        var best = -1;
        var bestAvailability = int.MaxValue;
        var ties = 0;
        for (var i = 0; i < _pieceCount; i++)
        {
            if (!has[i] || Have[i] || _active.ContainsKey(i) || elsewhere?[i] == true) continue;
            var availability = random ? 0 : _availability[i];
            if (availability < bestAvailability)
            {
                best = i;
                bestAvailability = availability;
                ties = 1;
            }
            else if (availability == bestAvailability && _random.Next(++ties) == 0)
            {
                best = i; // reservoir sampling: a uniform choice among equals
            }
        }
        return best;
    }

    /// <summary>The peer no longer fetches its requested blocks (choked us, or left).</summary>
    public void Release(object peer)
    {
        foreach (var piece in _active.Values) piece.Release(peer);
        DropIdlePieces();
    }

    /// <summary>Gives back specific requests (e.g. timed out).</summary>
    public void Release(object peer, IEnumerable<BlockRequest> blocks)
    {
        foreach (var block in blocks)
            if (_active.TryGetValue(block.Index, out var piece)) piece.Release(peer, block.Begin);
        DropIdlePieces();
    }

    // A started piece nobody is fetching and nothing received yet holds memory for nothing.
    private void DropIdlePieces()
    {
        foreach (var piece in _active.Values.Where(p => p.Received == 0 && !p.AnyRequested).ToList())
            _active.Remove(piece.Index);
    }

    /// <summary>Records a received block. Returns what became of it; for a completed piece, its bytes and contributors.</summary>
    public BlockOutcome BlockReceived(object peer, int index, int begin, ReadOnlyMemory<byte> data)
    {
        if (Have[index] || !_active.TryGetValue(index, out var piece) || piece.Verifying)
            return BlockOutcome.NotNeeded;
        return piece.Receive(peer, begin, data.Span);
    }

    /// <summary>Storage verified and wrote the piece.</summary>
    public void PieceVerified(int index)
    {
        _active.Remove(index);
        Have.Add(index);
    }

    /// <summary>The piece did not match its hash: forget everything received for it.</summary>
    public void PieceFailed(int index) => _active.Remove(index);

    private sealed class ActivePiece
    {
        private readonly int _size;
        // Rented at the first block (a piece dropped before any block came holds none) and handed,
        // with the completed piece, to storage, which gives it back.
        private byte[]? _data;
        private readonly bool[] _received;
        private readonly List<object>?[] _requestedBy;
        // When each block was first asked for (Stopwatch timestamps): how long its first holder has had it.
        private readonly long[] _requestedAt;
        private readonly HashSet<object> _contributors = new(ReferenceEqualityComparer.Instance);

        public ActivePiece(int index, int size)
        {
            Index = index;
            _size = size;
            var blocks = (size + WireLimits.BlockLength - 1) / WireLimits.BlockLength;
            _received = new bool[blocks];
            _requestedBy = new List<object>?[blocks];
            _requestedAt = new long[blocks];
        }

        public int Index { get; }
        public int Received { get; private set; }
        public bool Verifying { get; private set; }
        public bool AnyRequested => _requestedBy.Any(r => r is { Count: > 0 });

        private BlockRequest Block(int b) =>
            new(Index, b * WireLimits.BlockLength, Math.Min(WireLimits.BlockLength, _size - b * WireLimits.BlockLength));

        public void TakeUnrequested(object peer, int count, List<BlockRequest> into, long now)
        {
            for (var b = 0; b < _received.Length && count > 0; b++)
            {
                if (_received[b] || _requestedBy[b] is { Count: > 0 }) continue;
                (_requestedBy[b] ??= []).Add(peer);
                _requestedAt[b] = now;
                into.Add(Block(b));
                count--;
            }
        }

        /// <param name="askedBefore">Only blocks first asked for before this timestamp.</param>
        public void TakeDuplicates(object peer, int count, List<BlockRequest> into, int maxCopies, long askedBefore)
        {
            for (var b = 0; b < _received.Length && count > 0; b++)
            {
                var by = _requestedBy[b];
                if (_received[b] || by is not { Count: > 0 } || by.Count >= maxCopies || by.Contains(peer) || _requestedAt[b] > askedBefore) continue;
                by.Add(peer);
                into.Add(Block(b));
                count--;
            }
        }

        public void Release(object peer)
        {
            foreach (var by in _requestedBy) by?.Remove(peer);
        }

        public void Release(object peer, int begin)
        {
            if (begin % WireLimits.BlockLength == 0 && begin / WireLimits.BlockLength < _requestedBy.Length)
                _requestedBy[begin / WireLimits.BlockLength]?.Remove(peer);
        }

        public BlockOutcome Receive(object peer, int begin, ReadOnlySpan<byte> data)
        {
            var b = begin / WireLimits.BlockLength;
            if (begin % WireLimits.BlockLength != 0 || b >= _received.Length || data.Length != Block(b).Length)
                return BlockOutcome.NotNeeded;
            if (_received[b]) return BlockOutcome.NotNeeded;
            _received[b] = true;
            Received++;
            _data ??= ArrayPool<byte>.Shared.Rent(_size);
            data.CopyTo(_data.AsSpan(begin));
            _contributors.Add(peer);
            var others = _requestedBy[b]?.Where(p => !ReferenceEquals(p, peer)).ToArray() ?? [];
            _requestedBy[b] = null;
            if (Received < _received.Length) return new BlockOutcome(true, others, null, []);
            Verifying = true;
            return new BlockOutcome(true, others, new ArraySegment<byte>(_data, 0, _size), _contributors.ToArray());
        }
    }
}

/// <summary>
/// What a received block did: <see cref="Accepted"/> when it was new; <see cref="AlsoRequestedFrom"/>
/// the peers to cancel it with (end-game); <see cref="CompletedPiece"/> the piece's bytes when
/// this block completed it (in an array rented from the shared pool, for
/// <see cref="Storage.StorageActor.StorePiece"/>, which gives it back), with every peer that contributed a block.
/// </summary>
public sealed record BlockOutcome(bool Accepted, IReadOnlyList<object> AlsoRequestedFrom, ArraySegment<byte>? CompletedPiece,
    IReadOnlyList<object> Contributors)
{
    public static readonly BlockOutcome NotNeeded = new(false, [], null, []);
}
