using System.Net;
using Actors.Torrent.Bencode;
using Actors.Torrent.Tracker;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// Swarms spread over tracker nodes: a joining node receives its partitions (handover), and when
/// a node ends without leaving (as after kill -9) the survivor answers with every peer any node
/// had answered for. Several actor systems on loopback; the one that "crashes" neither leaves the
/// cluster nor runs coordinated shutdown.
/// </summary>
public sealed class TrackerClusterTests() : TestKit(ClusterConfig(), "actors")
{
    private const int Swarms = 8;

    private static Akka.Configuration.Config ClusterConfig(string extra = "") => Akka.Configuration.ConfigurationFactory.ParseString($$"""
        akka.cluster.failure-detector.heartbeat-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 1s
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        {{extra}}
        """).WithFallback(TrackerActorTests.NodeConfig());

    private static byte[] SwarmHash(int i) => Enumerable.Range(0, 20).Select(b => (byte)(b * 31 + i * 17)).ToArray();

    [Fact]
    public async Task A_joining_node_receives_its_partitions_and_keeps_every_peer_when_the_first_node_crashes()
    {
        var first = ActorSystem.Create("actors", ClusterConfig());
        try
        {
            var a = Cluster.Get(first);
            a.Join(a.SelfAddress);
            AwaitCondition(() => a.State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
            var (registryA, trackerA) = Start(first);
            var expected = AnnounceMany(trackerA, count: 40, port: 20000);
            Assert.Equal(40, Status(registryA).Peers);

            // A second node joins: every partition now has both nodes as holders, so A hands all over.
            Cluster.Get(Sys).Join(a.SelfAddress);
            var (registryB, trackerB) = Start(Sys);
            AwaitAssert(() =>
            {
                var status = Status(registryB);
                Assert.Equal(2, status.View.Count);
                Assert.Equal(40, status.Peers);
            }, TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
            var statusA = Status(registryA);
            Assert.InRange(statusA.Owned, 64, 192); // about half of 256
            Assert.Equal(256 - statusA.Owned, Status(registryB).Owned);

            // Announces after the join are applied by B (a holder of every partition) and streamed to A.
            expected.UnionWith(AnnounceMany(trackerB, count: 20, port: 21000));

            // A ends without leaving: B sees it unreachable and owns everything with what it holds.
            await first.Terminate();
            AwaitAssert(() => Assert.Single(Status(registryB).View), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
            Assert.Equal(expected, SeenBy(trackerB));
        }
        finally
        {
            Shutdown(first);
        }
    }

    [Fact]
    public async Task A_leaving_node_hands_its_partitions_on_and_a_later_crash_of_another_loses_nothing()
    {
        var b = ActorSystem.Create("actors", ClusterConfig());
        var c = ActorSystem.Create("actors", ClusterConfig());
        try
        {
            var a = JoinCluster(b, c);
            var (registryA, trackerA) = Start(Sys);
            var (registryB, _) = Start(b);
            var (registryC, _) = Start(c);
            // All three views, C's too: an owner whose view still lacks a node streams to the backup
            // of its older view, and A then keeps those peers for handover-grace (30 s).
            AwaitViews(3, TimeSpan.FromSeconds(20), registryA, registryB, registryC);
            // With three nodes each holds about two thirds of the peers (owner or backup): A keeps
            // exactly the swarms whose partition it holds (6 peers each). Which ones depends on the
            // nodes' ports: in about one run in twenty-five A holds all eight.
            var expected = AnnounceMany(trackerA, count: 48, port: 23000);
            var settings = TrackerActorTests.Settings();
            var placement = Placement.Compute(Status(registryA).View, settings.Partitions, settings.Replicas);
            var heldByA = Enumerable.Range(0, Swarms).Count(i => placement.Holds(SwarmStore.PartitionOf(Id20.Read(SwarmHash(i)), settings.Partitions), a.SelfAddress));
            AwaitAssert(() => Assert.Equal(6 * heldByA, Status(registryA).Peers), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));

            // C leaves gracefully: the partitions it held go to A and B, each from the other's copy.
            var left = Cluster.Get(c).SelfAddress;
            Cluster.Get(c).Leave(left);
            AwaitAssert(() =>
            {
                Assert.DoesNotContain(a.State.Members, m => m.Address.Equals(left));
                Assert.Equal(48, Status(registryA).Peers);
                Assert.Equal(48, Status(registryB).Peers);
            }, TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(200)); // a leave and its handovers: 20 s was short under a loaded suite

            // Then B crashes: A alone still has every peer.
            await b.Terminate();
            AwaitAssert(() => Assert.Single(Status(registryA).View), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
            Assert.Equal(expected, SeenBy(trackerA));
        }
        finally
        {
            Shutdown(b);
            Shutdown(c);
        }
    }

    [Fact]
    public void Peers_written_to_a_node_that_does_not_hold_their_partition_reach_its_holders_before_it_drops_them()
    {
        // What an owner whose view lagged does: it streams to the backup of its older view, a node
        // that holds nothing of that partition in the current one (seen once under a loaded suite:
        // after a leave, one swarm was missing on a holder). No view change there sends them on.
        var settings = TrackerActorTests.Settings() with { HandoverGrace = TimeSpan.FromSeconds(1) };
        var b = ActorSystem.Create("actors", ClusterConfig());
        var c = ActorSystem.Create("actors", ClusterConfig());
        try
        {
            var a = JoinCluster(b, c);
            var (registryA, _) = Start(Sys, settings);
            var (registryB, _) = Start(b, settings);
            var (registryC, _) = Start(c, settings);
            AwaitViews(3, TimeSpan.FromSeconds(20), registryA, registryB, registryC);
            var placement = Placement.Compute(Status(registryA).View, settings.Partitions, settings.Replicas);
            var swarm = Enumerable.Range(100, 1000).Select(i => Id20.Read(SwarmHash(i)))
                .First(h => !placement.Holds(SwarmStore.PartitionOf(h, settings.Partitions), a.SelfAddress));
            var partition = SwarmStore.PartitionOf(swarm, settings.Partitions);
            var peers = Enumerable.Range(0, 5).Select(i => new PeerChange(swarm, Id20.Read(SwarmHash(2000 + i)),
                PeerAddress.From(IPAddress.Loopback), 24000 + i, false, TrackerClock.NowSeconds(), false, false)).ToArray();

            registryA.Tell(new TrackerWire.PartitionSnapshot(1, partition, peers, []), TestActor);
            ExpectMsg<TrackerWire.HandoverAck>(TimeSpan.FromSeconds(5));
            Assert.Equal(5, Status(registryA).Peers);
            AwaitAssert(() =>
            {
                Assert.Equal(5, Status(registryB).Peers);
                Assert.Equal(5, Status(registryC).Peers);
                Assert.Equal(0, Status(registryA).Peers); // handed on, acknowledged, then dropped
            }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));
        }
        finally
        {
            Shutdown(b);
            Shutdown(c);
        }
    }

    [Fact]
    public async Task With_three_replicas_two_nodes_crashing_at_once_lose_no_peer()
    {
        var settings = TrackerActorTests.Settings() with { Replicas = 3 };
        var b = ActorSystem.Create("actors", ClusterConfig());
        var c = ActorSystem.Create("actors", ClusterConfig());
        try
        {
            JoinCluster(b, c);
            var (registryA, trackerA) = Start(Sys, settings);
            var (registryB, _) = Start(b, settings);
            var (registryC, trackerC) = Start(c, settings);
            AwaitViews(3, TimeSpan.FromSeconds(20), registryA, registryB, registryC);

            // Announced to C and A: every answered announce is on all three nodes.
            var expected = AnnounceMany(trackerC, count: 24, port: 24000);
            expected.UnionWith(AnnounceMany(trackerA, count: 24, port: 25000));
            Assert.Equal(48, Status(registryA).Peers);

            // B and C end together without leaving: A alone still has every peer.
            await Task.WhenAll(b.Terminate(), c.Terminate());
            AwaitAssert(() => Assert.Single(Status(registryA).View), TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(200));
            Assert.Equal(expected, SeenBy(trackerA));
        }
        finally
        {
            Shutdown(b);
            Shutdown(c);
        }
    }

    [Fact]
    public void Both_holders_write_an_announce_to_either_node_is_on_both_when_answered_with_no_forward_and_a_download_counts_once_on_each()
    {
        var other = ActorSystem.Create("actors", ClusterConfig());
        try
        {
            var a = JoinCluster(other);
            // A write-timeout no loaded machine reaches: answers wait for the other holder's ack, not the timer.
            var settings = TrackerActorTests.Settings() with { WriteTimeout = TimeSpan.FromSeconds(30) };
            var (registryA, _) = Start(Sys, settings);
            var (registryB, _) = Start(other, settings);
            AwaitViews(2, TimeSpan.FromSeconds(15), registryA, registryB);
            var placement = Placement.Compute(Status(registryA).View, settings.Partitions, settings.Replicas);
            // Swarms A owns, announced to B (its backup) and to A; then one B owns, announced to A.
            var ownedByA = Enumerable.Range(0, 200).Select(SwarmHash).Where(h => placement.Owner(SwarmStore.PartitionOf(Id20.Read(h), settings.Partitions)).Equals(a.SelfAddress)).ToList();
            var ownedByB = Enumerable.Range(0, 200).Select(SwarmHash).First(h => !placement.Owner(SwarmStore.PartitionOf(Id20.Read(h), settings.Partitions)).Equals(a.SelfAddress));

            for (var i = 0; i < 4; i++)
            {
                Announce(registryB, ownedByA[i], $"b{i}", 26000 + i, AnnounceEvent.Started);
                // Answered means applied on the other holder too: it acknowledged before B answered.
                Assert.Equal(i + 1, Status(registryA).Peers);
                Assert.Equal(i + 1, Status(registryB).Peers);
            }
            // A download reported to each node of one swarm A owns, and one of a swarm B owns: each counted once on each holder.
            Announce(registryB, ownedByA[0], "done1", 26100, AnnounceEvent.Completed);
            Announce(registryA, ownedByA[0], "done2", 26101, AnnounceEvent.Completed);
            Announce(registryA, ownedByB, "done3", 26102, AnnounceEvent.Completed);
            foreach (var registry in new[] { registryA, registryB })
            {
                Assert.Equal(7, Status(registry).Peers);
                Assert.Equal(0, Status(registry).Forwarded);
                registry.Tell(new Scrape([Convert.ToHexStringLower(ownedByA[0]), Convert.ToHexStringLower(ownedByB)]), TestActor);
                var scraped = ExpectMsg<Scraped>(TimeSpan.FromSeconds(5)).Swarms;
                Assert.Equal((2L, 2), (scraped[0].Downloaded, scraped[0].Complete)); // the two completed peers are seeders
                Assert.Equal((1L, 1), (scraped[1].Downloaded, scraped[1].Complete));
            }
        }
        finally
        {
            Shutdown(other);
        }
    }

    /// <summary>Forms the cluster: this test's system joins itself and <paramref name="others"/> join it.</summary>
    private Cluster JoinCluster(params ActorSystem[] others)
    {
        var self = Cluster.Get(Sys);
        self.Join(self.SelfAddress);
        foreach (var other in others) Cluster.Get(other).Join(self.SelfAddress);
        return self;
    }

    /// <summary>Waits until every registry's view counts <paramref name="nodes"/> tracker nodes.</summary>
    private void AwaitViews(int nodes, TimeSpan within, params IActorRef[] registries) =>
        AwaitAssert(() =>
        {
            foreach (var registry in registries) Assert.Equal(nodes, Status(registry).View.Count);
        }, within, TimeSpan.FromMilliseconds(200));

    private void Announce(IActorRef registry, byte[] infoHash, string peer, int port, AnnounceEvent @event)
    {
        var request = new AnnounceRequest(Convert.ToHexStringLower(infoHash), Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(peer.PadRight(20, '-'))),
            IPAddress.Loopback, port, 0, 0, @event == AnnounceEvent.Completed ? 0 : 1, @event, true, false, 50, null, null);
        registry.Tell(new Announce(request), TestActor);
        ExpectMsg<Announced>(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Scrape_gathers_counts_from_the_owners_on_both_nodes()
    {
        var other = ActorSystem.Create("actors", ClusterConfig());
        try
        {
            JoinCluster(other);
            var (registryB, trackerB) = Start(Sys);
            var (registryA, trackerA) = Start(other);
            AwaitViews(2, TimeSpan.FromSeconds(15), registryA, registryB);

            AnnounceMany(trackerA, count: 16, port: 22000);
            var all = (BDictionary)Get(trackerB, "/scrape").GetDictionary("files")!;
            Assert.Equal(Swarms, all.Entries.Count);
            Assert.Equal(16, all.Entries.Sum(e => ((BDictionary)e.Value).GetInteger("incomplete")));
            var one = Get(trackerB, "/scrape?info_hash=" + TrackerQuery.Encode(SwarmHash(3)));
            Assert.Equal(2, ((BDictionary)one.GetDictionary("files")!.Entries.Single().Value).GetInteger("incomplete"));
        }
        finally
        {
            Shutdown(other);
        }
    }

    private (IActorRef Registry, IActorRef Tracker) Start(ActorSystem system, TrackerSettings? settings = null)
    {
        settings ??= TrackerActorTests.Settings();
        var registry = system.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        return (registry, system.ActorOf(EndpointConnections.Props(new TrackerHttp(settings, registry)), "tracker"));
    }

    private RegistryStatus Status(IActorRef registry)
    {
        registry.Tell(GetStatus.Instance, TestActor);
        return ExpectMsg<RegistryStatus>(TimeSpan.FromSeconds(5));
    }

    /// <summary>Announces <paramref name="count"/> peers over the test swarms; returns (swarm, port) of each.</summary>
    private HashSet<(int Swarm, int Port)> AnnounceMany(IActorRef tracker, int count, int port)
    {
        var result = new HashSet<(int, int)>();
        for (var i = 0; i < count; i++)
        {
            var answer = Get(tracker, "/announce?" + TrackerActorTests.Query($"peer{port + i}", port + i, "&left=1", SwarmHash(i % Swarms)));
            Assert.Null(answer.GetText("failure reason"));
            result.Add((i % Swarms, port + i));
        }
        return result;
    }

    private HashSet<(int Swarm, int Port)> SeenBy(IActorRef tracker)
    {
        var seen = new HashSet<(int, int)>();
        for (var swarm = 0; swarm < Swarms; swarm++)
        {
            var answer = Get(tracker, "/announce?" + TrackerActorTests.Query("observer", 30000, "&left=1&numwant=200", SwarmHash(swarm)));
            var bytes = answer.Get<BString>("peers")!.Bytes.ToArray();
            for (var i = 0; i < bytes.Length / 6; i++) seen.Add((swarm, bytes[i * 6 + 4] << 8 | bytes[i * 6 + 5]));
        }
        return seen;
    }

    private BDictionary Get(IActorRef tracker, string target)
    {
        var request = new HttpRequest("GET", target, Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []);
        tracker.Tell(new HttpRequestReceived(request, new IPEndPoint(IPAddress.Loopback, 1)), TestActor);
        var reply = ExpectMsg<HttpReply>(TimeSpan.FromSeconds(10));
        return (BDictionary)BencodeDecoder.Decode(reply.Body);
    }
}
