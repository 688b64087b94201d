using System.Net;
using Actors.Torrent.Tracker;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;
using static Actors.Torrent.Tracker.TrackerWire;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// Handovers are acknowledged: two real registries (A, B) and a third node C whose registry is a
/// stand-in driven by the test, so a handover message to C can be lost on purpose. Messages
/// between the nodes go through remoting and the wire serializer.
/// </summary>
public sealed class TrackerHandoverTests() : TestKit(TrackerActorTests.NodeConfig(), "actors")
{
    private const int Swarms = 120;

    /// <summary>
    /// Greets like a registry; chunks of the partition under test go to the probe unacknowledged
    /// (the test acknowledges or drops them), every other chunk is acknowledged and also shown to the probe.
    /// </summary>
    private sealed class StandIn : ReceiveActor
    {
        public sealed record Send(IActorRef To, object Message);

        public sealed record Acknowledged(PartitionSnapshot Snapshot);

        public StandIn(IActorRef probe, int heldBack)
        {
            Receive<Hello>(_ => Sender.Tell(Welcome.Instance));
            Receive<Send>(s => s.To.Tell(s.Message));
            Receive<PartitionSnapshot>(s =>
            {
                if (s.Partition == heldBack)
                {
                    probe.Forward(s);
                    return;
                }
                Sender.Tell(new HandoverAck(s.Id));
                probe.Tell(new Acknowledged(s));
            });
            Receive<Batch>(b => { foreach (var m in b.Messages) Self.Forward(m); });
            ReceiveAny(_ => { });
        }
    }

    [Fact]
    public void A_lost_handover_is_sent_again_and_the_old_holder_keeps_the_partition_until_the_new_holder_acknowledges()
    {
        var settings = TrackerActorTests.Settings() with
        {
            HandoverGrace = TimeSpan.FromMilliseconds(200),
            HandoverTimeout = TimeSpan.FromSeconds(1),
            HandoverAttempts = 20,
        };
        var a = Cluster.Get(Sys);
        a.Join(a.SelfAddress);
        AwaitCondition(() => a.State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        var registryA = Sys.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");

        // A alone: one peer in each of many swarms, so most partitions have data.
        var peers = new Dictionary<int, HashSet<Id20>>();
        for (var i = 0; i < Swarms; i++)
        {
            registryA.Tell(new Announce(Request(Hash(i), $"peer{i}", i)));
            ExpectMsg<Announced>(TimeSpan.FromSeconds(5));
            var partition = Partition(Hash(i), settings);
            (peers.TryGetValue(partition, out var set) ? set : peers[partition] = []).Add(Id20.FromHex(Peer($"peer{i}")));
        }

        // B (a real registry) joins: A hands everything over to it, acknowledged.
        var systemB = ActorSystem.Create("actors", TrackerActorTests.NodeConfig());
        _others.Add(systemB);
        Cluster.Get(systemB).Join(a.SelfAddress);
        var registryB = systemB.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        AwaitAssert(() => Assert.Equal(Swarms, Status(registryB).Peers), TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));

        // C is about to join: pick a partition A no longer holds afterwards (A, letting it go, sends it to C).
        var systemC = ActorSystem.Create("actors", TrackerActorTests.NodeConfig());
        _others.Add(systemC);
        var (addressA, addressB, addressC) = (a.SelfAddress, Cluster.Get(systemB).SelfAddress, Cluster.Get(systemC).SelfAddress);
        var three = Placement.Compute([addressA, addressB, addressC], settings.Partitions);
        var heldBack = peers.Keys.First(p => !three.Holds(p, addressA));
        var probe = CreateTestProbe();
        var standIn = systemC.ActorOf(Props.Create(() => new StandIn(probe.Ref, heldBack)), "swarm-registry");
        Cluster.Get(systemC).Join(a.SelfAddress);

        // The first handover of that partition is lost.
        var received = new HashSet<Id20>();
        var lost = NextHeldBack(probe, received, TimeSpan.FromSeconds(20));
        Assert.Equal(peers[heldBack], lost.Peers.Select(c => c.PeerId).ToHashSet());

        // A drops what C acknowledged (after the grace) but keeps the unacknowledged partition.
        var keptByA = peers.Where(p => three.Holds(p.Key, addressA)).Sum(p => p.Value.Count);
        AwaitAssert(() => Assert.Equal(keptByA + peers[heldBack].Count, Status(registryA).Peers),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

        // It is sent again, whole, under a new id; acknowledged, A lets it go.
        var again = NextHeldBack(probe, received, TimeSpan.FromSeconds(10));
        Assert.NotEqual(lost.Id, again.Id);
        Assert.Equal(peers[heldBack], again.Peers.Select(c => c.PeerId).ToHashSet());
        Assert.Equal(keptByA + peers[heldBack].Count, Status(registryA).Peers);
        standIn.Tell(new StandIn.Send(registryA, new HandoverAck(again.Id)));
        // After the grace A hands it to its holders once more (what reached A since is not lost) and
        // keeps it until that is acknowledged too; then A lets it go.
        var last = NextHeldBack(probe, received, TimeSpan.FromSeconds(10));
        Assert.Equal(peers[heldBack], last.Peers.Select(c => c.PeerId).ToHashSet());
        Assert.Equal(keptByA + peers[heldBack].Count, Status(registryA).Peers);
        standIn.Tell(new StandIn.Send(registryA, new HandoverAck(last.Id)));
        AwaitAssert(() => Assert.Equal(keptByA, Status(registryA).Peers), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

        // No peer was lost: every partition C now holds reaches it, from A or (once B's view has C) from B.
        received.UnionWith(again.Peers.Select(c => c.PeerId));
        var forC = peers.Where(p => three.Holds(p.Key, addressC)).SelectMany(p => p.Value).ToHashSet();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!forC.IsSubsetOf(received) && DateTime.UtcNow < deadline)
            if (probe.TryReceiveOne(out var envelope, TimeSpan.FromMilliseconds(500)) && envelope.Message is StandIn.Acknowledged ack)
                received.UnionWith(ack.Snapshot.Peers.Select(c => c.PeerId));
        Assert.Empty(forC.Except(received));
    }

    /// <summary>The next chunk of the held-back partition; the peers of acknowledged chunks seen meanwhile go to <paramref name="received"/>.</summary>
    private static PartitionSnapshot NextHeldBack(TestProbe probe, HashSet<Id20> received, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var message = (left > TimeSpan.Zero ? probe.ReceiveOne(left) : null) ?? throw new TimeoutException("no handover of the held-back partition");
            if (message is PartitionSnapshot snapshot) return snapshot;
            if (message is StandIn.Acknowledged ack) received.UnionWith(ack.Snapshot.Peers.Select(c => c.PeerId));
        }
    }

    private RegistryStatus Status(IActorRef registry)
    {
        registry.Tell(GetStatus.Instance, TestActor);
        return ExpectMsg<RegistryStatus>(TimeSpan.FromSeconds(5));
    }

    private readonly List<ActorSystem> _others = [];

    protected override void AfterAll()
    {
        foreach (var system in _others) Shutdown(system);
        base.AfterAll();
    }

    private static string Hash(int i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(BitConverter.GetBytes(i)));

    private static int Partition(string hash, TrackerSettings settings) => SwarmStore.PartitionOf(Id20.FromHex(hash), settings.Partitions);

    private static string Peer(string name) => Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(name.PadRight(20, '-')));

    private static AnnounceRequest Request(string hash, string peer, int port) =>
        new(hash, Peer(peer), IPAddress.Loopback, 6000 + port, 0, 0, 1, AnnounceEvent.None, true, false, 50, null, null);
}
