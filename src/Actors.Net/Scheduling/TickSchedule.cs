namespace Actors.Net.Scheduling;

/// <summary>
/// The pure heart of <see cref="TickWheel"/>: which (subscriber, tick) pairs are due in each slot of
/// a wheel that turns one slot at a time. No actors, no clock: <see cref="Advance"/> is the clock.
/// <para>
/// Each entry has a period in whole slots. Its first slot is the least loaded one within its
/// first period (the earliest on a tie), so thousands of entries with the same period spread
/// evenly over it instead of all falling due together. Removed entries are dropped lazily when
/// their slot comes up.
/// </para>
/// </summary>
public sealed class TickSchedule<TSubscriber> where TSubscriber : notnull
{
    private sealed class Entry(TSubscriber subscriber, object message, int period)
    {
        public TSubscriber Subscriber { get; } = subscriber;
        public object Message { get; } = message;
        public int Period { get; set; } = period;
        public long Due { get; set; }
        public bool Removed { get; set; }
    }

    private readonly Dictionary<long, List<Entry>> _due = new();
    private readonly Dictionary<(TSubscriber, object), Entry> _entries = new();
    /// <summary>Each subscriber's live entries (a few): what <see cref="RemoveAll"/> removes.</summary>
    private readonly Dictionary<TSubscriber, List<Entry>> _perSubscriber = new();
    private long _now;

    /// <summary>The slot the wheel is in (the number of <see cref="Advance"/> calls so far).</summary>
    public long Now => _now;

    /// <summary>Live entries.</summary>
    public int Count => _entries.Count;

    /// <summary>How many live entries <paramref name="subscriber"/> has.</summary>
    public int CountOf(TSubscriber subscriber) => _perSubscriber.TryGetValue(subscriber, out var mine) ? mine.Count : 0;

    /// <summary>
    /// <paramref name="message"/> to <paramref name="subscriber"/> every <paramref name="periodSlots"/>
    /// slots (at least 1). The pair is the key: adding it again with another period changes the period
    /// (and re-spreads its first slot); with the same period it changes nothing.
    /// </summary>
    /// <returns>true when the pair was not scheduled before.</returns>
    public bool Add(TSubscriber subscriber, object message, int periodSlots)
    {
        var period = Math.Max(1, periodSlots);
        var key = (subscriber, message);
        if (!_perSubscriber.TryGetValue(subscriber, out var mine)) _perSubscriber[subscriber] = mine = new List<Entry>(2);
        var isNew = true;
        if (_entries.TryGetValue(key, out var existing))
        {
            if (existing.Period == period) return false;
            existing.Removed = true;
            mine.Remove(existing);
            isNew = false;
        }
        var entry = new Entry(subscriber, message, period) { Due = LeastLoadedSlot(period) };
        _entries[key] = entry;
        mine.Add(entry);
        Bucket(entry.Due).Add(entry);
        return isNew;
    }

    /// <summary>Stops one pair; false when it was not scheduled.</summary>
    public bool Remove(TSubscriber subscriber, object message)
    {
        if (!_entries.Remove((subscriber, message), out var entry)) return false;
        entry.Removed = true;
        var mine = _perSubscriber[subscriber];
        mine.Remove(entry);
        if (mine.Count == 0) _perSubscriber.Remove(subscriber);
        return true;
    }

    /// <summary>Stops every pair of <paramref name="subscriber"/> (it stopped); the number removed.</summary>
    public int RemoveAll(TSubscriber subscriber)
    {
        if (!_perSubscriber.Remove(subscriber, out var mine)) return 0;
        foreach (var entry in mine)
        {
            _entries.Remove((subscriber, entry.Message));
            entry.Removed = true;
        }
        return mine.Count;
    }

    /// <summary>Turns the wheel one slot and returns what is due in it (each pair rescheduled one period on).</summary>
    public IReadOnlyList<(TSubscriber Subscriber, object Message)> Advance()
    {
        _now++;
        if (!_due.Remove(_now, out var bucket)) return [];
        var due = new List<(TSubscriber, object)>(bucket.Count);
        foreach (var entry in bucket)
        {
            if (entry.Removed) continue;
            due.Add((entry.Subscriber, entry.Message));
            entry.Due = _now + entry.Period;
            Bucket(entry.Due).Add(entry);
        }
        return due;
    }

    /// <summary>
    /// Turns the wheel to <paramref name="slot"/> (nothing when it is there already) and returns what
    /// fell due on the way, each pair once however many of its periods were passed (a process that
    /// was stopped for a minute gets one tick of each kind, not six hundred).
    /// </summary>
    public IReadOnlyList<(TSubscriber Subscriber, object Message)> AdvanceTo(long slot)
    {
        if (slot <= _now) return [];
        if (slot == _now + 1) return Advance();
        var due = new List<(TSubscriber, object)>();
        var seen = new HashSet<(TSubscriber, object)>();
        while (_now < slot)
            foreach (var pair in Advance())
                if (seen.Add(pair)) due.Add(pair);
        return due;
    }

    /// <summary>
    /// The earliest slot after <see cref="Now"/> with a live entry due, or null when nothing is
    /// scheduled: a wheel that sleeps until then instead of turning through empty slots. Buckets
    /// holding only removed entries are dropped on the way.
    /// </summary>
    public long? NextDue()
    {
        long? next = null;
        List<long>? dead = null;
        foreach (var (slot, bucket) in _due)
        {
            if (next is { } n && slot >= n) continue;
            if (bucket.TrueForAll(e => e.Removed)) (dead ??= []).Add(slot);
            else next = slot;
        }
        if (dead is not null) foreach (var slot in dead) _due.Remove(slot);
        return next;
    }

    /// <summary>The slot a newly added pair falls due in first (see <see cref="Add"/>).</summary>
    public long? DueOf(TSubscriber subscriber, object message) => _entries.TryGetValue((subscriber, message), out var entry) ? entry.Due : null;

    private List<Entry> Bucket(long slot)
    {
        if (!_due.TryGetValue(slot, out var bucket)) _due[slot] = bucket = new List<Entry>();
        return bucket;
    }

    /// <summary>The slot among the next <paramref name="period"/> with the fewest entries (counting lazily removed ones: close enough).</summary>
    private long LeastLoadedSlot(int period)
    {
        var best = _now + 1;
        var fewest = int.MaxValue;
        for (var slot = _now + 1; slot <= _now + period; slot++)
        {
            var load = _due.TryGetValue(slot, out var bucket) ? bucket.Count : 0;
            if (load >= fewest) continue;
            best = slot;
            fewest = load;
            if (load == 0) break;
        }
        return best;
    }
}
