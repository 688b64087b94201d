using System.Net;
using Actors.Torrent.Dht;
using Xunit;

namespace Actors.Torrent.Tests.Dht;

public sealed class RoutingTableTests
{
    private static readonly DateTime T0 = new(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);
    private static readonly NodeId Self = NodeId.Parse("8000000000000000000000000000000000000000");
    private static int _port = 1000;

    /// <summary>A contact sharing exactly <paramref name="prefix"/> leading bits with <see cref="Self"/>.</summary>
    private static NodeContact At(int prefix) => new(Self.RandomInBucket(prefix), new IPEndPoint(IPAddress.Loopback, Interlocked.Increment(ref _port)));

    [Fact]
    public void A_new_table_holds_k_nodes_in_one_bucket_then_splits_the_bucket_holding_our_id()
    {
        var table = new RoutingTable(Self, now: T0);
        for (var i = 0; i < 8; i++) Assert.Equal(ObserveOutcome.Added, table.Observe(At(0), T0, responded: true).Outcome);
        Assert.Equal(1, table.BucketCount);
        // A ninth node near us: the only bucket (which holds our id) splits.
        Assert.Equal(ObserveOutcome.Added, table.Observe(At(3), T0, responded: true).Outcome);
        Assert.Equal(9, table.Count);
        Assert.True(table.BucketCount >= 2);
    }

    [Fact]
    public void A_full_bucket_far_from_us_does_not_split_and_offers_the_oldest_questionable_node_to_ping()
    {
        var table = new RoutingTable(Self, now: T0);
        var far = Enumerable.Range(0, 8).Select(_ => At(0)).ToList();
        for (var i = 0; i < far.Count; i++) table.Observe(far[i], T0.AddSeconds(i), responded: true);
        table.Observe(At(5), T0, responded: true); // splits: bucket 0 now holds only the far half
        Assert.Equal(8, table.Buckets[0].Entries.Count);

        // All good: the newcomer waits as a replacement, nothing to ping.
        var early = table.Observe(At(0), T0.AddMinutes(1), responded: true);
        Assert.Equal(ObserveOutcome.Full, early.Outcome);
        Assert.Null(early.PingCandidate);

        // 16 minutes later they are questionable: the least recently seen is offered for a ping.
        var later = table.Observe(At(0), T0.AddMinutes(16), responded: true);
        Assert.Equal(ObserveOutcome.Full, later.Outcome);
        Assert.Equal(far[0], later.PingCandidate);
        Assert.Equal(8, table.Buckets[0].Entries.Count);
    }

    [Fact]
    public void A_node_that_fails_twice_is_bad_and_replaced_by_a_waiting_node()
    {
        var table = new RoutingTable(Self, now: T0);
        var far = Enumerable.Range(0, 8).Select(_ => At(0)).ToList();
        foreach (var c in far) table.Observe(c, T0, responded: true);
        table.Observe(At(5), T0, responded: true);
        var waiting = At(0);
        var now = T0.AddMinutes(16);
        var result = table.Observe(waiting, now, responded: true);
        Assert.Equal(far[0], result.PingCandidate);

        Assert.False(table.Failed(far[0].Id, now)); // one failure: still there
        Assert.NotNull(table.Find(far[0].Id));
        Assert.True(table.Failed(far[0].Id, now));  // two in a row: bad, replaced
        Assert.Null(table.Find(far[0].Id));
        Assert.NotNull(table.Find(waiting.Id));
    }

    [Fact]
    public void A_bad_node_is_replaced_by_the_next_newcomer_when_no_replacement_waited()
    {
        var table = new RoutingTable(Self, now: T0);
        var far = Enumerable.Range(0, 8).Select(_ => At(0)).ToList();
        foreach (var c in far) table.Observe(c, T0, responded: true);
        table.Observe(At(5), T0, responded: true);
        table.Failed(far[3].Id, T0);
        table.Failed(far[3].Id, T0);
        Assert.Equal(NodeState.Bad, table.Find(far[3].Id)!.State(T0));
        var newcomer = At(0);
        Assert.Equal(ObserveOutcome.Added, table.Observe(newcomer, T0, responded: false).Outcome);
        Assert.Null(table.Find(far[3].Id));
    }

    [Fact]
    public void Node_states_follow_BEP_5()
    {
        var table = new RoutingTable(Self, now: T0);
        var answered = At(0);
        var onlyQueried = At(0);
        table.Observe(answered, T0, responded: true);
        table.Observe(onlyQueried, T0, responded: false);
        Assert.Equal(NodeState.Good, table.Find(answered.Id)!.State(T0.AddMinutes(14)));
        Assert.Equal(NodeState.Questionable, table.Find(answered.Id)!.State(T0.AddMinutes(15)));
        // Has answered once and queries us now: good again.
        table.Observe(answered, T0.AddMinutes(20), responded: false);
        Assert.Equal(NodeState.Good, table.Find(answered.Id)!.State(T0.AddMinutes(21)));
        // Never answered: questionable even though it queried us.
        Assert.Equal(NodeState.Questionable, table.Find(onlyQueried.Id)!.State(T0));
        // An answer clears failures.
        table.Failed(answered.Id, T0.AddMinutes(22));
        table.Observe(answered, T0.AddMinutes(23), responded: true);
        Assert.Equal(0, table.Find(answered.Id)!.Failures);
    }

    [Fact]
    public void Our_own_id_is_never_added()
    {
        var table = new RoutingTable(Self, now: T0);
        Assert.Equal(ObserveOutcome.Ignored, table.Observe(new NodeContact(Self, new IPEndPoint(IPAddress.Loopback, 1)), T0, true).Outcome);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Closest_returns_the_k_nearest_by_XOR_and_skips_bad_nodes()
    {
        var table = new RoutingTable(Self, now: T0);
        var random = new Random(5);
        var all = new List<NodeContact>();
        for (var i = 0; i < 500; i++)
        {
            var c = At(random.Next(0, 20));
            all.Add(c);
            table.Observe(c, T0, responded: true);
        }
        var inTable = all.Where(c => table.Find(c.Id) is not null).ToList();
        Assert.True(inTable.Count > 40, $"{inTable.Count} nodes kept");
        Assert.True(inTable.Count <= 8 * table.BucketCount);
        var target = NodeId.Random();
        var expected = inTable.OrderBy(c => c.Id.Xor(target)).Take(8).ToList();
        Assert.Equal(expected, table.Closest(target, 8, T0));

        table.Failed(expected[0].Id, T0);
        table.Failed(expected[0].Id, T0);
        Assert.DoesNotContain(expected[0], table.Closest(target, 8, T0));
    }

    [Fact]
    public void Every_bucket_holds_at_most_k_nodes_each_in_its_range()
    {
        var table = new RoutingTable(Self, now: T0);
        for (var i = 0; i < 5000; i++) table.Observe(new NodeContact(NodeId.Random(), new IPEndPoint(IPAddress.Loopback, 1 + i % 60000)), T0, responded: true);
        for (var b = 0; b < table.BucketCount; b++)
        {
            var bucket = table.Buckets[b];
            Assert.True(bucket.Entries.Count <= 8);
            Assert.True(bucket.Replacements.Count <= 8);
            foreach (var e in bucket.Entries)
            {
                var prefix = Self.CommonPrefixLength(e.Contact.Id);
                Assert.True(b == table.BucketCount - 1 ? prefix >= b : prefix == b, $"bucket {b} holds a node with prefix {prefix}");
            }
        }
    }

    [Fact]
    public void Buckets_untouched_for_15_minutes_get_a_refresh_target_inside_their_range_once()
    {
        var table = new RoutingTable(Self, now: T0);
        for (var i = 0; i < 40; i++) table.Observe(At(i % 5), T0, responded: true);
        Assert.Empty(table.RefreshTargets(T0.AddMinutes(10), TimeSpan.FromMinutes(15)));
        var targets = table.RefreshTargets(T0.AddMinutes(16), TimeSpan.FromMinutes(15));
        Assert.Equal(table.BucketCount, targets.Count);
        for (var b = 0; b < targets.Count - 1; b++) Assert.Equal(b, Self.CommonPrefixLength(targets[b]));
        Assert.True(Self.CommonPrefixLength(targets[^1]) >= table.BucketCount - 1);
        Assert.Empty(table.RefreshTargets(T0.AddMinutes(17), TimeSpan.FromMinutes(15)));
    }
}
