using System.Net;
using Actors.Torrent.Tracker;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// A tracker node that has not yet seen the other tracker nodes must not answer as the only holder
/// of every swarm: a kill -9 before it hands over would lose those answers (the Lab's
/// <c>tracker-kill</c> lost 84 after a restart). Two real registries with the role "tracker".
/// </summary>
public sealed class TrackerJoinWindowTests() : TestKit(TrackerActorTests.NodeConfig(Roles), "actors")
{
    private const string Roles = "akka.cluster.roles = [tracker]";
    private const int Swarms = 24;
    private readonly List<ActorSystem> _others = [];

    [Fact]
    public void Announces_to_a_joining_node_wait_for_its_view_and_every_answer_is_then_on_both_nodes()
    {
        var settings = TrackerActorTests.Settings() with { ForwardTimeout = TimeSpan.FromSeconds(20) };
        var a = Cluster.Get(Sys);
        a.Join(a.SelfAddress);
        AwaitCondition(() => a.State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        var registryA = Sys.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");

        // B's registry runs before B is in the cluster: announces reach it first (a restarted node's clients do).
        var systemB = ActorSystem.Create("actors", TrackerActorTests.NodeConfig(Roles));
        _others.Add(systemB);
        var registryB = systemB.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        for (var i = 0; i < Swarms; i++) registryB.Tell(new Announce(Request(Hash(i), $"peer{i}", i)), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500)); // held: B is not Up and knows no other tracker

        Cluster.Get(systemB).Join(a.SelfAddress);
        for (var i = 0; i < Swarms; i++) ExpectMsg<Announced>(TimeSpan.FromSeconds(20));

        // Answered means on both holders (two nodes, two replicas: A holds every partition), at once.
        Assert.Equal(Swarms, Status(registryA).Peers);
        Assert.Equal(2, Status(registryB).View.Count);
    }

    [Fact]
    public void A_node_that_never_becomes_Up_refuses_its_announces_as_unavailable_after_the_forward_timeout()
    {
        var settings = TrackerActorTests.Settings() with { ForwardTimeout = TimeSpan.FromMilliseconds(500) };
        var registry = Sys.ActorOf(SwarmRegistry.Props(settings), "swarm-registry"); // this node never joins
        registry.Tell(new Announce(Request(Hash(1), "lonely", 1), Correlation: 7), TestActor);
        var failed = ExpectMsg<AnnounceFailed>(TimeSpan.FromSeconds(5));
        Assert.Equal(SwarmRegistry.UnavailableReason, failed.Reason);
        Assert.Equal(7, failed.Correlation);
        Assert.Equal(0, Status(registry).Peers);
    }

    /// <summary>
    /// A partner whose view does not count us yet: it would answer a forwarded announce without
    /// streaming the change to us (as an owner did before every holder wrote), and acknowledges our batches.
    /// </summary>
    private sealed class OwnerWithoutUs : ReceiveActor
    {
        public OwnerWithoutUs()
        {
            Receive<TrackerWire.Hello>(_ => Sender.Tell(TrackerWire.Welcome.Instance));
            Receive<TrackerWire.ForwardedAnnounce>(f => Sender.Tell(new TrackerWire.ForwardedAnswer(f.Id, [], 0, 0, null)));
            Receive<TrackerWire.ReplicaBatch>(r => Sender.Tell(new TrackerWire.ReplicaAck(r.Id))); // A's own partitions: backed up at once
            Receive<TrackerWire.Batch>(b => { foreach (var m in b.Messages) Self.Forward(m); });
            ReceiveAny(_ => { });
        }
    }

    [Fact]
    public void An_announce_to_a_holder_whose_partner_does_not_count_it_yet_is_kept_here_not_forwarded()
    {
        var settings = TrackerActorTests.Settings();
        var a = Cluster.Get(Sys);
        a.Join(a.SelfAddress);
        AwaitCondition(() => a.State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        var registryA = Sys.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        var systemB = ActorSystem.Create("actors", TrackerActorTests.NodeConfig(Roles));
        _others.Add(systemB);
        systemB.ActorOf(Props.Create(() => new OwnerWithoutUs()), "swarm-registry");
        Cluster.Get(systemB).Join(a.SelfAddress);
        AwaitCondition(() => Status(registryA).View.Count == 2, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200));

        // Two nodes, two replicas: A holds every partition, as owner or as backup of B's, so it
        // applies every announce itself (a kill -9 of B loses none; the Lab's tracker-kill lost 2
        // when A forwarded to a B whose view lacked A and kept no copy).
        for (var i = 0; i < Swarms; i++)
        {
            registryA.Tell(new Announce(Request(Hash(i), $"peer{i}", i)), TestActor);
            ExpectMsg<Announced>(TimeSpan.FromSeconds(10));
        }
        var status = Status(registryA);
        Assert.Equal(((long)Swarms, 0L), (status.Peers, status.Forwarded));
    }

    private RegistryStatus Status(IActorRef registry)
    {
        registry.Tell(GetStatus.Instance, TestActor);
        return ExpectMsg<RegistryStatus>(TimeSpan.FromSeconds(5));
    }

    protected override void AfterAll()
    {
        foreach (var system in _others) Shutdown(system);
        base.AfterAll();
    }

    private static string Hash(int i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(BitConverter.GetBytes(i)));

    private static string Peer(string name) => Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(name.PadRight(20, '-')));

    private static AnnounceRequest Request(string hash, string peer, int port) =>
        new(hash, Peer(peer), IPAddress.Loopback, 6000 + port, 0, 0, 1, AnnounceEvent.None, true, false, 50, null, null);
}
