namespace Actors.Lab.Links;

/// <summary>What a <see cref="ToxicShaper{T}"/> says to do next.</summary>
public enum ShaperAction
{
    /// <summary>Nothing queued.</summary>
    Idle,
    /// <summary>Write <see cref="ShaperStep{T}.Data"/> now; if <see cref="ShaperStep{T}.CloseAfter"/>, close the connection once it is written.</summary>
    Write,
    /// <summary>Come back at <see cref="ShaperStep{T}.At"/>.</summary>
    Wait,
    /// <summary>A stall toxic holds everything: neither write nor read until the toxics change.</summary>
    Stalled,
    /// <summary>A limit is used up and more data waits: close the connection.</summary>
    Close,
}

public readonly record struct ShaperStep<T>(ShaperAction Action, T? Data = default, TimeSpan At = default, bool CloseAfter = false);

/// <summary>
/// The toxics of one direction of one connection, as pure logic: chunks go in as they are read,
/// with the time; <see cref="Next"/> says what to write when. No actors, no I/O, no clock of its
/// own (the caller passes a monotonic time), so every toxic is tested without sockets.
/// Generic over the chunk type (<c>ByteString</c> in the actor, <c>byte[]</c> in tests); it only
/// needs a chunk's length and a way to cut one.
/// Order of effects for a chunk: limit_data cuts it, slicer cuts it into slices, latency delays
/// it from the moment it was read, bandwidth paces the pieces; a stall holds everything.
/// </summary>
public sealed class ToxicShaper<T>
{
    /// <summary>How far ahead of its exact pace the bandwidth toxic may write (the average rate is kept).</summary>
    public static readonly TimeSpan BandwidthBurst = TimeSpan.FromMilliseconds(50);
    /// <summary>How much time lost to late timers the bandwidth toxic may make up for.</summary>
    public static readonly TimeSpan BandwidthCatchUp = TimeSpan.FromMilliseconds(100);

    private readonly Func<T, int> _length;
    private readonly Func<T, int, int, T> _slice;
    private readonly Random _random;
    private readonly Queue<Entry> _queue = new();
    private Entry? _head; // the chunk being cut, when a previous piece of it was written
    private long _queued;

    private TimeSpan _latency, _jitter;
    private long _rateBytesPerSecond; // 0: no bandwidth toxic
    private TimeSpan _bandwidthFreeAt;
    private ToxicKind.Slicer? _slicer;
    private TimeSpan _nextSliceAt;
    private readonly Dictionary<string, (ToxicKind.LimitData Kind, long Remaining)> _limits = new();
    private bool _stalled;

    private sealed class Entry(T data, TimeSpan readAt, double jitterDraw)
    {
        public T Data = data;
        public readonly TimeSpan ReadAt = readAt;
        public readonly double JitterDraw = jitterDraw; // in [-1, 1], drawn once per chunk
    }

    /// <param name="length">A chunk's length in bytes.</param>
    /// <param name="slice">Cuts (chunk, offset, count) out of a chunk.</param>
    public ToxicShaper(Func<T, int> length, Func<T, int, int, T> slice, Random? random = null)
    {
        _length = length;
        _slice = slice;
        _random = random ?? new Random();
    }

    /// <summary>Bytes read and not yet handed out for writing.</summary>
    public long QueuedBytes => _queued;

    public bool IsStalled => _stalled;

    /// <summary>
    /// The toxics that now act on this direction (already filtered by stream and toxicity).
    /// A limit_data toxic keeps its count while it stays the same; a new or changed one starts
    /// from its full allowance. Bandwidth and slicer start pacing from <paramref name="now"/>.
    /// </summary>
    public void SetToxics(IEnumerable<Toxic> toxics, TimeSpan now)
    {
        var list = toxics.ToList();
        _latency = TimeSpan.FromMilliseconds(list.Select(t => t.Kind).OfType<ToxicKind.Latency>().Sum(l => (long)l.LatencyMs));
        _jitter = TimeSpan.FromMilliseconds(list.Select(t => t.Kind).OfType<ToxicKind.Latency>().Sum(l => (long)l.JitterMs));

        var rates = list.Select(t => t.Kind).OfType<ToxicKind.Bandwidth>().Select(b => b.RateKBps * 1000).ToList();
        var rate = rates.Count == 0 ? 0 : rates.Min();
        if (rate != _rateBytesPerSecond) _bandwidthFreeAt = now;
        _rateBytesPerSecond = rate;

        var slicer = list.Select(t => t.Kind).OfType<ToxicKind.Slicer>().LastOrDefault();
        if (slicer != _slicer) _nextSliceAt = now;
        _slicer = slicer;

        var limits = list.Where(t => t.Kind is ToxicKind.LimitData).ToList();
        foreach (var name in _limits.Keys.Where(n => limits.All(t => t.Name != n)).ToList())
            _limits.Remove(name);
        foreach (var toxic in limits)
        {
            var kind = (ToxicKind.LimitData)toxic.Kind;
            if (!_limits.TryGetValue(toxic.Name, out var current) || current.Kind != kind)
                _limits[toxic.Name] = (kind, kind.Bytes);
        }

        _stalled = list.Any(t => t.Kind is ToxicKind.Timeout);
    }

    /// <summary>A chunk was read at <paramref name="now"/>.</summary>
    public void Enqueue(T data, TimeSpan now)
    {
        var length = _length(data);
        if (length == 0) return;
        _queue.Enqueue(new Entry(data, now, _random.NextDouble() * 2 - 1));
        _queued += length;
    }

    /// <summary>What to do at <paramref name="now"/>. A <see cref="ShaperAction.Write"/> hands the bytes out (they leave <see cref="QueuedBytes"/>).</summary>
    public ShaperStep<T> Next(TimeSpan now)
    {
        if (_stalled) return new(ShaperAction.Stalled);
        var head = _head ?? (_queue.Count > 0 ? _queue.Peek() : null);
        if (head is null) return new(ShaperAction.Idle);

        var remaining = LimitRemaining();
        if (remaining == 0) return new(ShaperAction.Close);

        var due = head.ReadAt + _latency + _jitter * head.JitterDraw;
        if (due < head.ReadAt) due = head.ReadAt; // jitter larger than the latency never sends early
        if (_slicer is not null && _nextSliceAt > due) due = _nextSliceAt;
        // Bandwidth may run up to BandwidthBurst ahead of its clock: timers fire on a ~10 ms tick,
        // so waiting for every small chunk's exact due time would undershoot the rate.
        if (_rateBytesPerSecond > 0 && _bandwidthFreeAt - BandwidthBurst > due) due = _bandwidthFreeAt - BandwidthBurst;
        if (due > now) return new(ShaperAction.Wait, At: due);

        var length = _length(head.Data);
        var size = length;
        if (_slicer is { } slicer)
        {
            var variation = slicer.SizeVariation == 0 ? 0 : _random.Next(-slicer.SizeVariation, slicer.SizeVariation + 1);
            size = Math.Min(size, Math.Max(1, slicer.AverageSize + variation));
        }
        if (_rateBytesPerSecond > 0)
            size = (int)Math.Min(size, Math.Max(1, _rateBytesPerSecond / 10)); // at most 100 ms worth per write
        if (remaining is { } left)
            size = (int)Math.Min(size, left);

        T piece;
        if (size == length)
        {
            piece = head.Data;
            if (_head is not null) _head = null; else _queue.Dequeue();
        }
        else
        {
            piece = _slice(head.Data, 0, size);
            head.Data = _slice(head.Data, size, length - size);
            if (_head is null) { _queue.Dequeue(); _head = head; }
        }
        _queued -= size;

        if (_rateBytesPerSecond > 0)
        {
            // A wake-up that came late may catch up on up to BandwidthCatchUp of lost time, so a
            // loaded machine does not lower the rate; an idle link earns no more credit than that.
            var floor = now - BandwidthCatchUp;
            _bandwidthFreeAt = (_bandwidthFreeAt > floor ? _bandwidthFreeAt : floor) + TimeSpan.FromSeconds((double)size / _rateBytesPerSecond);
        }
        if (_slicer is { } s)
            _nextSliceAt = now + TimeSpan.FromTicks(s.DelayMicros * 10L);
        var closeAfter = false;
        foreach (var name in _limits.Keys.ToList())
        {
            var (kind, allowance) = _limits[name];
            _limits[name] = (kind, allowance - size);
            if (allowance - size <= 0) closeAfter = true;
        }
        return new(ShaperAction.Write, piece, CloseAfter: closeAfter);
    }

    private long? LimitRemaining() => _limits.Count == 0 ? null : _limits.Values.Min(l => l.Remaining);
}
