using System.Net;
using Actors.Torrent.Tracker;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>The compact swarm state: peer records, expiry from the head, sampling, partitions, placement.</summary>
public sealed class SwarmStoreTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static Id20 Peer(int i) => new(0xABCD, (ulong)i, (uint)i);
    private static Id20 Hash(int i) => new((ulong)i << 48 | 7, (ulong)i, 1);
    private static readonly PeerAddress Ten = PeerAddress.From(IPAddress.Parse("10.0.0.1"));

    [Fact]
    public void Upsert_and_remove_keep_counts_and_positions_consistent_under_random_operations()
    {
        var swarm = new Swarm();
        var model = new Dictionary<int, (bool Seeder, int LastSeen)>();
        // 300 peer ids first (many updates and removals), then 3000 (the index and chunks grow).
        var random = new Random(42);
        for (var step = 0; step < 20_000; step++)
        {
            var peer = random.Next(step < 10_000 ? 300 : 3000);
            if (random.Next(4) == 0)
            {
                Assert.Equal(model.Remove(peer) ? 1 : 0, swarm.Remove(Peer(peer)));
            }
            else
            {
                var seeder = random.Next(2) == 0;
                var isNew = !model.ContainsKey(peer);
                Assert.Equal(isNew ? 1 : 0, swarm.Upsert(Peer(peer), Ten, 1000 + peer, seeder, step));
                model[peer] = (seeder, step);
            }
            Assert.Equal(model.Count, swarm.Count);
        }
        Assert.Equal(model.Count(m => m.Value.Seeder), swarm.Complete);
        Assert.Equal(model.Count(m => !m.Value.Seeder), swarm.Incomplete);
        // The list is in last-announce order and holds every peer once.
        var listed = swarm.Peers().ToList();
        Assert.Equal(model.Count, listed.Select(p => p.PeerId).Distinct().Count());
        Assert.Equal(listed.Select(p => p.LastSeen).Order(), listed.Select(p => p.LastSeen));
        Assert.All(listed, p => Assert.Equal(model[(int)p.PeerId.B].LastSeen, p.LastSeen));

        // Emptying most of it shrinks the index; what is left is still found, what left is not.
        foreach (var peer in model.Keys.Skip(5).ToList())
        {
            Assert.Equal(1, swarm.Remove(Peer(peer)));
            model.Remove(peer);
        }
        Assert.Equal(5, swarm.Count);
        Assert.All(model.Keys, peer => Assert.True(swarm.Contains(Peer(peer))));
        Assert.All(Enumerable.Range(0, 3000).Where(p => !model.ContainsKey(p)), peer => Assert.False(swarm.Contains(Peer(peer))));
    }

    [Fact]
    public void Expiry_removes_exactly_the_peers_last_seen_before_the_cutoff()
    {
        var swarm = new Swarm();
        for (var i = 0; i < 100; i++) swarm.Upsert(Peer(i), Ten, 1, i % 3 == 0, lastSeen: i);
        // Re-announcing moves a peer to the tail: peer 5 is now the newest.
        swarm.Upsert(Peer(5), Ten, 1, false, lastSeen: 500);
        Assert.Equal(59, swarm.RemoveExpired(cutoff: 60));
        Assert.Equal(41, swarm.Count);
        Assert.True(swarm.Contains(Peer(5)));
        Assert.False(swarm.Contains(Peer(59)));
        Assert.Equal(60, swarm.OldestLastSeen);
    }

    [Fact]
    public void Sample_returns_distinct_live_peers_never_the_asker()
    {
        var swarm = new Swarm();
        for (var i = 0; i < 1000; i++) swarm.Upsert(Peer(i), Ten, 2000 + i, false, lastSeen: i < 500 ? 1 : 100);
        for (var round = 0; round < 50; round++)
        {
            var sample = swarm.Sample(Peer(700), Ten, 9999, wanted: 50, cutoff: 50);
            Assert.Equal(50, sample.Length);
            Assert.Equal(50, sample.Select(p => p.PeerId).Distinct().Count());
            Assert.All(sample, p => Assert.True(p.PeerId.B >= 500 && p.PeerId.B != 700));
        }
        // Same address and port under another peer id is the asker too.
        var small = new Swarm();
        small.Upsert(Peer(1), Ten, 6881, false, 1);
        small.Upsert(Peer(2), Ten, 6882, false, 1);
        Assert.Equal([Peer(2)], small.Sample(Peer(3), Ten, 6881, 50, 0).Select(p => p.PeerId));
    }

    [Fact]
    public void Store_applies_changes_merges_newer_handovers_and_drops_partitions()
    {
        var store = new SwarmStore(16);
        store.Apply(new PeerChange(Hash(1), Peer(1), Ten, 1, false, 100, false, false));
        store.Apply(new PeerChange(Hash(1), Peer(1), Ten, 1, true, 110, false, true));
        store.Apply(new PeerChange(Hash(2), Peer(2), Ten, 2, false, 100, false, false));
        Assert.Equal(2, store.PeerCount);
        Assert.Equal(1, store.Find(Hash(1))!.Downloaded);

        // A handed-over copy older than ours changes nothing; a newer one wins; counts take the max.
        store.Apply(new PeerChange(Hash(1), Peer(1), Ten, 1, false, 90, false, false));
        Assert.Equal(1, store.Find(Hash(1))!.Complete);
        store.Apply(new PeerChange(Hash(1), Peer(3), Ten, 3, false, 90, false, false));
        store.Merge(new SwarmDownloads(Hash(1), 5));
        Assert.Equal(3, store.PeerCount);
        Assert.Equal(5, store.Find(Hash(1))!.Downloaded);

        var partition = store.PartitionOf(Hash(2));
        var snapshot = store.Snapshot(partition, chunk: 1).ToList();
        Assert.Equal(Peer(2), Assert.Single(snapshot.SelectMany(c => c.Peers)).PeerId);
        store.Drop(partition);
        Assert.Null(store.Find(Hash(2)));
        Assert.Equal(2, store.PeerCount);

        store.Apply(new PeerChange(Hash(1), Peer(3), Ten, 3, false, 120, Removed: true, false));
        Assert.Equal(1, store.RemoveExpired(cutoff: 200));
        Assert.Equal(0, store.PeerCount);
        Assert.NotNull(store.Find(Hash(1))); // kept for its download count
    }

    [Fact]
    public void Two_holders_applying_each_others_concurrent_changes_in_opposite_orders_keep_the_newest()
    {
        // One second, two holders, one peer: A's and B's updates (or a stop) cross in their streams.
        var (a, b) = (new SwarmStore(16), new SwarmStore(16));
        var other = PeerAddress.From(IPAddress.Parse("10.0.0.2"));
        Exchange(a, b, new PeerChange(Hash(1), Peer(1), Ten, 1, false, 100, false, false),
            new PeerChange(Hash(1), Peer(1), other, 2, false, 100, false, false));
        Assert.All(new[] { a, b }, s => Assert.Equal((other, 2, 100), Record(s, Hash(1), Peer(1)))); // same second: the larger port
        Exchange(a, b, new PeerChange(Hash(1), Peer(1), Ten, 3, false, 105, false, false),
            new PeerChange(Hash(1), Peer(1), other, 4, true, 104, false, false));
        Assert.All(new[] { a, b }, s => Assert.Equal((Ten, 3, 105), Record(s, Hash(1), Peer(1)))); // the newer, not the last applied
        Exchange(a, b, new PeerChange(Hash(1), Peer(1), Ten, 3, false, 110, Removed: true, false),
            new PeerChange(Hash(1), Peer(1), other, 4, false, 108, false, false));
        Assert.All(new[] { a, b }, s => Assert.Equal(0, s.PeerCount)); // a stop newer than B's update: gone on both
        Exchange(a, b, new PeerChange(Hash(1), Peer(1), Ten, 3, false, 112, Removed: true, false),
            new PeerChange(Hash(1), Peer(1), other, 4, false, 114, false, false));
        Assert.All(new[] { a, b }, s => Assert.Equal((other, 4, 114), Record(s, Hash(1), Peer(1)))); // an update newer than the stop stays

        // Each applies its own change first (stamped against what it holds), then the other's.
        static void Exchange(SwarmStore a, SwarmStore b, PeerChange atA, PeerChange atB)
        {
            atA = a.Stamp(atA);
            atB = b.Stamp(atB);
            a.Apply(atA);
            b.Apply(atB);
            a.Apply(atB);
            b.Apply(atA);
        }
    }

    [Fact]
    public void Random_concurrent_changes_on_two_holders_converge_to_the_newest_change_of_every_peer_and_count_each_download_once()
    {
        for (var seed = 1; seed <= 20; seed++)
        {
            var random = new Random(seed);
            var stores = new[] { new SwarmStore(16), new SwarmStore(16) };
            // Each holder's stream to the other, in order; delivered at random moments.
            var streams = new[] { new Queue<PeerChange>(), new Queue<PeerChange>() };
            var made = new List<PeerChange>();
            for (var step = 0; step < 3000; step++)
            {
                var holder = random.Next(2);
                if (random.Next(3) == 0 && streams[holder].Count > 0)
                {
                    stores[1 - holder].Apply(streams[holder].Dequeue());
                    continue;
                }
                // Three peers in two swarms, ~8 changes per second: many same-second conflicts.
                var removed = random.Next(5) == 0;
                var change = new PeerChange(Hash(random.Next(2)), Peer(random.Next(3)), random.Next(2) == 0 ? Ten : PeerAddress.From(IPAddress.Parse("10.0.0.2")),
                    random.Next(1, 4), random.Next(2) == 0, LastSeen: 1000 + step / 8, removed, Completed: !removed && random.Next(4) == 0);
                change = stores[holder].Stamp(change);
                stores[holder].Apply(change);
                streams[holder].Enqueue(change);
                made.Add(change);
            }
            for (var holder = 0; holder < 2; holder++)
                while (streams[holder].TryDequeue(out var change)) stores[1 - holder].Apply(change);

            foreach (var swarm in made.GroupBy(c => c.InfoHash))
            {
                var newest = swarm.GroupBy(c => c.PeerId).Select(p => p.MaxBy(c => (c.LastSeen, c.Removed, c.Seeder, c.Port, c.Address.Hi, c.Address.Lo)))
                    .Where(c => !c.Removed).Select(c => (c.PeerId, c.Address, c.Port, c.Seeder, c.LastSeen)).OrderBy(p => p.PeerId.B).ToList();
                foreach (var store in stores)
                {
                    Assert.Equal(newest, store.Find(swarm.Key)?.Peers().OrderBy(p => p.PeerId.B).ToList() ?? []);
                    Assert.Equal(swarm.Count(c => c.Completed), store.Find(swarm.Key)?.Downloaded ?? 0);
                }
            }
        }
    }

    [Fact]
    public void A_stop_one_holder_saw_while_cut_off_from_the_other_reaches_it_with_the_handover()
    {
        var (a, b) = (new SwarmStore(16), new SwarmStore(16));
        var stays = new PeerChange(Hash(1), Peer(1), Ten, 1, false, 100, false, false);
        var leaves = stays with { PeerId = Peer(2), Port = 2 };
        foreach (var store in new[] { a, b })
        {
            store.Apply(stays);
            store.Apply(leaves);
        }
        // Cut off from each other: A sees both stop; B sees peer 1 announce again, after A's stop.
        a.Apply(a.Stamp(stays with { LastSeen = 105, Removed = true }));
        a.Apply(a.Stamp(leaves with { LastSeen = 105, Removed = true }));
        b.Apply(b.Stamp(stays with { LastSeen = 110 }));

        // Healed: each hands its copy of the partition to the other, merged newest-wins.
        var partition = a.PartitionOf(Hash(1));
        Assert.True(a.HasData(partition)); // removals alone are something to hand over
        var fromA = a.Snapshot(partition, chunk: 1).SelectMany(c => c.Peers).ToList();
        var fromB = b.Snapshot(partition, chunk: 1).SelectMany(c => c.Peers).ToList();
        foreach (var change in fromB) a.Apply(change);
        foreach (var change in fromA) b.Apply(change);
        Assert.All(new[] { a, b }, s => Assert.Equal([Peer(1)], s.Find(Hash(1))!.Peers().Select(p => p.PeerId)));
    }

    private static (PeerAddress Address, int Port, int LastSeen) Record(SwarmStore store, Id20 infoHash, Id20 peerId) =>
        store.Find(infoHash)!.Peers().Where(p => p.PeerId == peerId).Select(p => (p.Address, p.Port, p.LastSeen)).Single();

    [Fact]
    public void A_peer_costs_under_200_bytes_of_managed_memory()
    {
        // 200,000 random peers over 100 swarms, as the benchmark makes them. Everything the store
        // allocates on this thread (records, index, arrays outgrown on the way) bounds what it
        // keeps, whatever other tests do to the heap meanwhile.
        const int count = 200_000;
        var random = new Random(7);
        var changes = new PeerChange[count];
        for (var i = 0; i < count; i++)
            changes[i] = new PeerChange(Hash(random.Next(100)), new Id20((ulong)random.NextInt64(), (ulong)random.NextInt64(), (uint)i),
                new PeerAddress(0, 0xFFFF_0000_0000UL | (uint)random.Next()), random.Next(1024, 65536), false, i, false, false);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var store = new SwarmStore(256);
        foreach (var change in changes) store.Apply(change);
        var perPeer = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / count;
        Assert.Equal(count, store.PeerCount);
        output.WriteLine($"{perPeer:0} bytes allocated per peer");

        // For the README's cost breakdown (not asserted: the machine is shared): an announce's
        // apply and its 50-peer answer, in swarms of 2,000.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var change in changes) store.Apply(change with { LastSeen = change.LastSeen + 1 });
        var apply = clock.Elapsed.TotalMicroseconds / count;
        clock.Restart();
        foreach (var change in changes.AsSpan(0, 20_000)) store.Find(change.InfoHash)!.Sample(change.PeerId, change.Address, change.Port, 50, 0);
        output.WriteLine($"apply {apply:0.00} µs, sample of 50 {clock.Elapsed.TotalMicroseconds / 20_000:0.00} µs");
        Assert.InRange(perPeer, 56, 200);
    }

    [Fact]
    public void With_three_replicas_every_partition_has_three_distinct_holders_led_by_the_two_replica_placement()
    {
        Address[] nodes = [Node(1), Node(2), Node(3), Node(4)];
        var two = Placement.Compute(nodes, 256);
        var three = Placement.Compute(nodes, 256, replicas: 3);
        for (var p = 0; p < 256; p++)
        {
            Assert.Equal(3, three.Holders(p).Distinct().Count());
            Assert.Equal(two.Holders(p), three.Holders(p).Take(2));
        }
        // Each node holds about three quarters of the partitions; fewer nodes than replicas: all hold all.
        Assert.All(nodes, n => Assert.InRange(Enumerable.Range(0, 256).Count(p => three.Holds(p, n)), 150, 230));
        Assert.Equal(2, Placement.Compute([Node(1), Node(2)], 8, replicas: 3).Holders(5).Count);

        static Address Node(int port) => new("akka.tcp", "actors", "127.0.0.1", port);
    }

    [Fact]
    public void Placement_spreads_partitions_evenly_and_a_new_node_takes_only_its_share()
    {
        Address Node(int port) => new("akka.tcp", "actors", "127.0.0.1", port);
        var two = Placement.Compute([Node(1), Node(2)], 256);
        var owned = two.Nodes.Select(n => Enumerable.Range(0, 256).Count(p => two.Owner(p).Equals(n))).ToList();
        Assert.All(owned, count => Assert.InRange(count, 96, 160));
        Assert.All(Enumerable.Range(0, 256), p => Assert.NotEqual(two.Owner(p), two.Backup(p)));
        // Same answer whatever the order of the view.
        var again = Placement.Compute([Node(2), Node(1)], 256);
        Assert.All(Enumerable.Range(0, 256), p => Assert.Equal(two.Owner(p), again.Owner(p)));

        var three = Placement.Compute([Node(1), Node(2), Node(3)], 256);
        var moved = Enumerable.Range(0, 256).Count(p => !three.Owner(p).Equals(two.Owner(p)));
        Assert.Equal(Enumerable.Range(0, 256).Count(p => three.Owner(p).Equals(Node(3))), moved);
        Assert.InRange(moved, 50, 120);
        Assert.Null(Placement.Compute([Node(1)], 4).Backup(0));
    }
}
