namespace Actors.Torrent.Dht;

/// <summary>Good: answered us recently. Questionable: quiet for 15 minutes. Bad: failed queries in a row (BEP 5).</summary>
public enum NodeState { Good, Questionable, Bad }

/// <summary>What <see cref="RoutingTable.Observe"/> did with a contact.</summary>
public enum ObserveOutcome { Added, Updated, Ignored, Full }

/// <summary>
/// The result of seeing a node. When the bucket is full of nodes that are not known bad, the
/// newcomer waits in the bucket's replacement cache and <see cref="PingCandidate"/> names the least
/// recently seen questionable node: ping it, and report a failure with <see cref="RoutingTable.Failed"/>.
/// </summary>
public readonly record struct ObserveResult(ObserveOutcome Outcome, NodeContact? PingCandidate = null);

/// <summary>
/// A BEP 5 routing table: k-buckets covering the 160-bit space, where only the bucket that holds
/// our own id splits when full. Bucket <c>i</c> (all but the last) holds nodes sharing exactly
/// <c>i</c> leading bits with us; the last holds every node sharing at least as many. A pure class
/// (time is passed in), so it is tested without actors or sockets.
/// </summary>
public sealed class RoutingTable
{
    public const int DefaultK = 8;

    /// <summary>A node that has not answered or queried us for this long is questionable.</summary>
    public static readonly TimeSpan QuestionableAfter = TimeSpan.FromMinutes(15);

    /// <summary>Failed queries in a row after which a node is bad.</summary>
    public const int MaxFailures = 2;

    private readonly List<Bucket> _buckets;

    public RoutingTable(NodeId self, int k = DefaultK, int maxReplacements = DefaultK, DateTime? now = null)
    {
        Self = self;
        K = k;
        MaxReplacements = maxReplacements;
        _buckets = [new Bucket(now ?? DateTime.UtcNow)];
    }

    public NodeId Self { get; }

    public int K { get; }

    public int MaxReplacements { get; }

    /// <summary>Nodes in the buckets (not counting replacement caches).</summary>
    public int Count => _buckets.Sum(b => b.Entries.Count);

    public int BucketCount => _buckets.Count;

    public IReadOnlyList<Bucket> Buckets => _buckets;

    /// <summary>
    /// A node was heard from: it answered one of our queries (<paramref name="responded"/>) or sent us
    /// a query. Known nodes are refreshed; new ones are added, split into a new bucket, put in place of
    /// a bad node, or (bucket full) kept as a replacement with a questionable node to ping.
    /// </summary>
    public ObserveResult Observe(NodeContact contact, DateTime now, bool responded)
    {
        if (contact.Id == Self) return new(ObserveOutcome.Ignored);
        while (true)
        {
            var index = BucketIndex(contact.Id);
            var bucket = _buckets[index];
            if (bucket.Find(contact.Id) is { } known)
            {
                known.Touch(contact, now, responded);
                bucket.LastChanged = now;
                return new(ObserveOutcome.Updated);
            }
            if (bucket.Entries.Count < K)
            {
                bucket.Add(new Entry(contact, now, responded));
                bucket.RemoveReplacement(contact.Id);
                bucket.LastChanged = now;
                return new(ObserveOutcome.Added);
            }
            // Only the bucket whose range holds our own id splits (there are at most 160 of them).
            if (index == _buckets.Count - 1 && _buckets.Count < NodeId.Bits)
            {
                Split(now);
                continue;
            }
            if (bucket.Entries.FirstOrDefault(e => e.State(now) == NodeState.Bad) is { } bad)
            {
                bucket.Remove(bad);
                bucket.Add(new Entry(contact, now, responded));
                bucket.RemoveReplacement(contact.Id);
                bucket.LastChanged = now;
                return new(ObserveOutcome.Added);
            }
            bucket.AddReplacement(new Entry(contact, now, responded), MaxReplacements);
            var questionable = bucket.Entries.Where(e => e.State(now) == NodeState.Questionable).MinBy(e => e.LastSeen);
            return new(ObserveOutcome.Full, questionable?.Contact);
        }
    }

    /// <summary>
    /// A query to the node timed out. After <see cref="MaxFailures"/> in a row it is bad, and when its
    /// bucket has a replacement waiting, the replacement takes its place. True when the node left the table.
    /// </summary>
    public bool Failed(NodeId id, DateTime now)
    {
        var bucket = _buckets[BucketIndex(id)];
        var entry = bucket.Find(id);
        if (entry is null)
        {
            bucket.RemoveReplacement(id);
            return false;
        }
        entry.Failures++;
        if (entry.State(now) != NodeState.Bad) return false;
        if (bucket.TakeReplacement() is { } replacement)
        {
            bucket.Remove(entry);
            bucket.Add(replacement);
            bucket.LastChanged = now;
            return true;
        }
        return false;
    }

    /// <summary>Removes a node outright (e.g. it answered with another id).</summary>
    public bool Remove(NodeId id)
    {
        var bucket = _buckets[BucketIndex(id)];
        return bucket.Find(id) is { } entry && bucket.Remove(entry);
    }

    public Entry? Find(NodeId id) => _buckets[BucketIndex(id)].Find(id);

    /// <summary>The <paramref name="count"/> nodes closest to <paramref name="target"/> that are not bad.</summary>
    public IReadOnlyList<NodeContact> Closest(NodeId target, int count, DateTime now) =>
        _buckets.SelectMany(b => b.Entries)
            .Where(e => e.State(now) != NodeState.Bad)
            .Select(e => e.Contact)
            .OrderBy(c => c.Id.Xor(target))
            .Take(count)
            .ToList();

    /// <summary>Every node in the table in the given state.</summary>
    public IReadOnlyList<NodeContact> InState(NodeState state, DateTime now) =>
        _buckets.SelectMany(b => b.Entries).Where(e => e.State(now) == state).Select(e => e.Contact).ToList();

    /// <summary>
    /// Targets for buckets untouched for <paramref name="interval"/> (BEP 5: 15 minutes): a random id in
    /// each such bucket's range, to look up. The bucket counts as refreshed from now.
    /// </summary>
    public IReadOnlyList<NodeId> RefreshTargets(DateTime now, TimeSpan interval)
    {
        var targets = new List<NodeId>();
        for (var i = 0; i < _buckets.Count; i++)
        {
            if (now - _buckets[i].LastChanged < interval) continue;
            _buckets[i].LastChanged = now;
            // The last bucket covers every id sharing at least i bits with ours.
            targets.Add(Self.RandomInBucket(i, flipNext: i < _buckets.Count - 1));
        }
        return targets;
    }

    private int BucketIndex(NodeId id) => Math.Min(Self.CommonPrefixLength(id), _buckets.Count - 1);

    private void Split(DateTime now)
    {
        var depth = _buckets.Count - 1;
        var old = _buckets[depth];
        var near = new Bucket(now) { LastChanged = old.LastChanged };
        foreach (var entry in old.Entries.ToList())
        {
            if (Self.CommonPrefixLength(entry.Contact.Id) > depth)
            {
                old.Remove(entry);
                near.Add(entry);
            }
        }
        foreach (var entry in old.Replacements.ToList())
        {
            if (Self.CommonPrefixLength(entry.Contact.Id) > depth)
            {
                old.RemoveReplacement(entry.Contact.Id);
                near.AddReplacement(entry, MaxReplacements);
            }
        }
        _buckets.Add(near);
    }

    /// <summary>One node in the table, with what we know of its liveness.</summary>
    public sealed class Entry(NodeContact contact, DateTime now, bool responded)
    {
        public NodeContact Contact { get; private set; } = contact;
        public DateTime LastSeen { get; private set; } = now;
        public DateTime? LastResponse { get; private set; } = responded ? now : null;
        public DateTime? LastQuery { get; private set; } = responded ? null : now;
        public int Failures { get; internal set; }

        /// <summary>
        /// Good: answered one of our queries in the last 15 minutes, or has answered ever and queried
        /// us in the last 15 minutes. Bad: failed <see cref="MaxFailures"/> queries in a row.
        /// </summary>
        public NodeState State(DateTime now)
        {
            if (Failures >= MaxFailures) return NodeState.Bad;
            if (LastResponse is { } r && (now - r < QuestionableAfter || (LastQuery is { } q && now - q < QuestionableAfter))) return NodeState.Good;
            return NodeState.Questionable;
        }

        internal void Touch(NodeContact contact, DateTime now, bool responded)
        {
            LastSeen = now;
            if (responded)
            {
                // An answer to a query we sent to this endpoint proves the address.
                Contact = contact;
                LastResponse = now;
                Failures = 0;
            }
            else
            {
                LastQuery = now;
            }
        }
    }

    /// <summary>A k-bucket: at most k entries, a bounded replacement cache, when it last changed.</summary>
    public sealed class Bucket(DateTime created)
    {
        private readonly List<Entry> _entries = [];
        private readonly List<Entry> _replacements = [];

        public IReadOnlyList<Entry> Entries => _entries;
        public IReadOnlyList<Entry> Replacements => _replacements;
        public DateTime LastChanged { get; set; } = created;

        internal Entry? Find(NodeId id)
        {
            foreach (var entry in _entries)
                if (entry.Contact.Id == id) return entry;
            return null;
        }

        internal void Add(Entry entry) => _entries.Add(entry);

        internal bool Remove(Entry entry) => _entries.Remove(entry);

        internal void AddReplacement(Entry entry, int max)
        {
            RemoveReplacement(entry.Contact.Id);
            _replacements.Add(entry);
            if (_replacements.Count > max) _replacements.RemoveAt(0); // the oldest goes
        }

        internal void RemoveReplacement(NodeId id) => _replacements.RemoveAll(e => e.Contact.Id == id);

        /// <summary>The newest replacement, preferring one that has answered us.</summary>
        internal Entry? TakeReplacement()
        {
            var best = _replacements.LastOrDefault(e => e.LastResponse is not null) ?? _replacements.LastOrDefault();
            if (best is not null) _replacements.Remove(best);
            return best;
        }
    }
}
