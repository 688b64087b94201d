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
/// One real registry (node A) and, on node B, a stand-in registry driven by the test: what A sends
/// its backup and its owners, and when A answers. Messages between the nodes go through remoting
/// and the wire serializer.
/// </summary>
public sealed class TrackerReplicationTests() : TestKit(TrackerActorTests.NodeConfig(Frame), "actors")
{
    /// <summary>The remoting frame of config/cluster.conf (Akka's default is 128,000 bytes).</summary>
    private const string Frame = "akka.remote.dot-netty.tcp.maximum-frame-size = 4 MiB";

    /// <summary>
    /// Greets like a registry and passes everything else to the test's probe; <see cref="Send"/>
    /// replies as B, over remoting to the registry that greeted it (a reference to A's registry
    /// handed over in-process would deliver locally, with a sender A does not know as a node).
    /// </summary>
    private sealed class StandIn : ReceiveActor
    {
        public sealed record Send(object Message);

        private IActorRef? _registryA;

        public StandIn(IActorRef probe)
        {
            Receive<Hello>(_ =>
            {
                _registryA = Sender;
                Sender.Tell(Welcome.Instance);
            });
            Receive<Send>(s => _registryA!.Tell(s.Message));
            ReceiveAny(m => probe.Forward(m));
        }
    }

    [Fact]
    public void The_owner_answers_after_its_backup_acknowledges_batches_what_arrives_meanwhile_and_refuses_beyond_the_bound()
    {
        // A write-timeout no loaded machine reaches: the answers must come from the acks, not the timer.
        var (registry, standIn, probe, placement, _) = StartPair(TrackerActorTests.Settings() with { MaxPendingAnnounces = 2, ReplicaBatchesInFlight = 1, WriteTimeout = TimeSpan.FromSeconds(30) });
        var owned = Enumerable.Range(0, 500).Select(Hash).Where(h => placement.Owner(Partition(h)).Equals(Cluster.Get(Sys).SelfAddress)).ToList();

        registry.Tell(new Announce(Request(owned[0], "one", 1)));
        var first = probe.ExpectMsg<ReplicaBatch>(TimeSpan.FromSeconds(5));
        Assert.Equal(Id20.FromHex(Peer("one")), Assert.Single(first.Changes).PeerId);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not answered before the backup holds it

        registry.Tell(new Announce(Request(owned[1], "two", 2)));
        registry.Tell(new Announce(Request(owned[2], "three", 3)));
        Assert.Equal(SwarmRegistry.BusyReason, ExpectMsg<AnnounceFailed>().Reason);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // one batch in flight at a time

        // Acks and batches cross remoting: allow for a loaded machine (the suite runs test projects in parallel).
        var remoting = TimeSpan.FromSeconds(10);
        standIn.Tell(new StandIn.Send(new ReplicaAck(first.Id)));
        Assert.Equal(Peer("one"), ExpectMsg<Announced>(remoting).Request.PeerId);
        var second = probe.ExpectMsg<ReplicaBatch>(remoting);
        Assert.Equal(Id20.FromHex(Peer("two")), Assert.Single(second.Changes).PeerId);
        standIn.Tell(new StandIn.Send(new ReplicaAck(second.Id)));
        Assert.Equal(Peer("two"), ExpectMsg<Announced>(remoting).Request.PeerId);
        // B received A's registry as a remote sender: the batches crossed remoting (and the serializer).
        Assert.Equal(Cluster.Get(Sys).SelfAddress, probe.LastSender.Path.Address);
    }

    [Fact]
    public void Batches_leave_without_waiting_for_the_one_before_up_to_the_bound_and_each_announce_is_answered_on_its_own_batchs_ack()
    {
        var (registry, standIn, probe, placement, _) = StartPair(TrackerActorTests.Settings() with { ReplicaBatchesInFlight = 2, WriteTimeout = TimeSpan.FromSeconds(30) });
        var owned = Enumerable.Range(0, 500).Select(Hash).Where(h => placement.Owner(Partition(h)).Equals(Cluster.Get(Sys).SelfAddress)).ToList();
        var remoting = TimeSpan.FromSeconds(10);
        using var metrics = new CounterSums(Actors.Torrent.Telemetry.TrackerMetrics.MeterName);

        registry.Tell(new Announce(Request(owned[0], "one", 1)));
        var first = probe.ExpectMsg<ReplicaBatch>(remoting);
        registry.Tell(new Announce(Request(owned[1], "two", 2)));
        var second = probe.ExpectMsg<ReplicaBatch>(remoting); // left with the first still out
        Assert.Equal(Id20.FromHex(Peer("two")), Assert.Single(second.Changes).PeerId);
        registry.Tell(new Announce(Request(owned[2], "three", 3)));
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // two out: the third waits
        ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // and nothing is answered yet

        standIn.Tell(new StandIn.Send(new ReplicaAck(first.Id)));
        Assert.Equal(Peer("one"), ExpectMsg<Announced>(remoting).Request.PeerId);
        var third = probe.ExpectMsg<ReplicaBatch>(remoting); // the ack made room
        Assert.Equal(Id20.FromHex(Peer("three")), Assert.Single(third.Changes).PeerId);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // "two" waits for its own batch's ack

        standIn.Tell(new StandIn.Send(new ReplicaAck(second.Id)));
        Assert.Equal(Peer("two"), ExpectMsg<Announced>(remoting).Request.PeerId);
        standIn.Tell(new StandIn.Send(new ReplicaAck(third.Id)));
        Assert.Equal(Peer("three"), ExpectMsg<Announced>(remoting).Request.PeerId);

        // The stream's counters (other tests in this process may add to them: lower bounds). The
        // three batches waited at least 400, 700 and 300 ms for their acknowledgements above.
        Assert.True(metrics["actors.tracker.replica.batches"] >= 3, metrics.ToString());
        Assert.True(metrics["actors.tracker.replica.changes"] >= 3, metrics.ToString());
        Assert.True(metrics["actors.tracker.replica.acknowledged"] >= 3, metrics.ToString());
        Assert.True(metrics["actors.tracker.replica.ack_wait"] >= 1_000, metrics.ToString());
    }

    /// <summary>Sums every long measurement of one meter's instruments by name, from creation to disposal.</summary>
    private sealed class CounterSums : IDisposable
    {
        private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _sums = new();

        public CounterSums(string meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == meter) listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _sums.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
            _listener.Start();
        }

        public long this[string instrument] => _sums.GetValueOrDefault(instrument);

        public override string ToString() => string.Join(", ", _sums.OrderBy(p => p.Key).Select(p => $"{p.Key} = {p.Value}"));

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public void An_announce_to_the_backup_is_applied_there_and_streamed_to_the_owner_never_forwarded()
    {
        // A write-timeout no loaded machine reaches: the answer must wait for the ack, not the timer.
        var (registry, standIn, probe, placement, nodeB) = StartPair(TrackerActorTests.Settings() with { WriteTimeout = TimeSpan.FromSeconds(30) });
        var backedUp = Enumerable.Range(0, 500).Select(Hash).First(h => placement.Owner(Partition(h)).Equals(nodeB));

        registry.Tell(new Announce(Request(backedUp, "asker", 7)));
        // The owner gets the change to apply, not the request to handle.
        var batch = probe.ExpectMsg<ReplicaBatch>(TimeSpan.FromSeconds(5));
        Assert.Equal(Id20.FromHex(Peer("asker")), Assert.Single(batch.Changes).PeerId);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // not answered before the owner holds it too
        registry.Tell(GetStatus.Instance);
        var status = ExpectMsg<RegistryStatus>();
        Assert.Equal((1L, 0L), (status.Peers, status.Forwarded)); // applied here, nothing forwarded

        standIn.Tell(new StandIn.Send(new ReplicaAck(batch.Id)));
        var answer = ExpectMsg<Announced>(TimeSpan.FromSeconds(10));
        Assert.Equal(Peer("asker"), answer.Request.PeerId);
        Assert.Equal((0, 1), (answer.Complete, answer.Incomplete)); // from this node's own copy
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void With_one_replica_an_announce_for_a_swarm_held_elsewhere_is_forwarded_once_and_nothing_kept_here()
    {
        var (registry, standIn, probe, placement, nodeB) = StartPair(TrackerActorTests.Settings() with { Replicas = 1 });
        var foreign = Enumerable.Range(0, 500).Select(Hash).First(h => placement.Owner(Partition(h)).Equals(nodeB));
        using var metrics = new CounterSums(Actors.Torrent.Telemetry.TrackerMetrics.MeterName);

        registry.Tell(new Announce(Request(foreign, "asker", 7)));
        var forwarded = probe.ExpectMsg<ForwardedAnnounce>(TimeSpan.FromSeconds(5));
        Assert.Equal(Peer("asker"), forwarded.Request.PeerId);
        var known = new SwarmPeer(Peer("known"), IPAddress.Parse("10.9.8.7"), 4242);
        standIn.Tell(new StandIn.Send(new ForwardedAnswer(forwarded.Id, [known], 3, 4, null)));

        var answer = ExpectMsg<Announced>(TimeSpan.FromSeconds(10));
        Assert.Equal([known], answer.Peers);
        Assert.Equal((3, 4), (answer.Complete, answer.Incomplete));
        registry.Tell(GetStatus.Instance);
        var status = ExpectMsg<RegistryStatus>();
        Assert.Equal((0L, 1L), (status.Peers, status.Forwarded)); // not a holder: no copy here
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // forwarded once, nothing more
        Assert.True(metrics["actors.tracker.forwards"] >= 1, metrics.ToString());
    }

    [Fact]
    public void An_announce_answered_after_a_write_timeout_reaches_the_holder_as_a_handover_once_it_acknowledges_again()
    {
        // A link cut with no view change (seen in the Lab's partition-heal): the batch is lost, the
        // announce answered from A's copy alone after write-timeout (2 s).
        var (registry, standIn, probe, placement, _) = StartPair(TrackerActorTests.Settings());
        var owned = Enumerable.Range(0, 500).Select(Hash).Where(h => placement.Owner(Partition(h)).Equals(Cluster.Get(Sys).SelfAddress)).ToList();
        using var metrics = new CounterSums(Actors.Torrent.Telemetry.TrackerMetrics.MeterName);
        registry.Tell(new Announce(Request(owned[0], "lost", 1)));
        probe.ExpectMsg<ReplicaBatch>(TimeSpan.FromSeconds(5)); // never acknowledged
        Assert.Equal(Peer("lost"), ExpectMsg<Announced>(TimeSpan.FromSeconds(10)).Request.PeerId);
        Assert.True(metrics["actors.tracker.replica.timeouts"] >= 1, metrics.ToString());

        // The holder acknowledges the next batch: the partition answered without it is handed to it.
        registry.Tell(new Announce(Request(owned[1], "later", 2)));
        var later = probe.ExpectMsg<ReplicaBatch>(TimeSpan.FromSeconds(5));
        standIn.Tell(new StandIn.Send(new ReplicaAck(later.Id)));
        Assert.Equal(Peer("later"), ExpectMsg<Announced>(TimeSpan.FromSeconds(10)).Request.PeerId);
        var snapshot = probe.ExpectMsg<PartitionSnapshot>(TimeSpan.FromSeconds(10));
        Assert.Equal(Partition(owned[0]), snapshot.Partition);
        Assert.Contains(snapshot.Peers, c => c.PeerId == Id20.FromHex(Peer("lost")));
    }

    [Fact]
    public void A_burst_of_replica_changes_leaves_in_few_remote_messages_each_far_below_the_remoting_frame()
    {
        // One batch in flight, so that the burst collects behind it.
        var (registry, standIn, probe, placement, _) = StartPair(TrackerActorTests.Settings() with { SyncReplication = false, ReplicaBatchesInFlight = 1 });
        var owned = Enumerable.Range(0, 500).Select(Hash).First(h => placement.Owner(Partition(h)).Equals(Cluster.Get(Sys).SelfAddress));
        var answers = CreateTestProbe(); // async: answered at once, not read

        registry.Tell(new Announce(Request(owned, "first", 1)), answers.Ref);
        var first = probe.ExpectMsg<ReplicaBatch>(TimeSpan.FromSeconds(5));
        // 20,000 changes collect while the first batch waits for its ack.
        for (var i = 0; i < 20_000; i++) registry.Tell(new Announce(Request(owned, $"p{i}", i % 50_000)), answers.Ref);
        registry.Tell(GetStatus.Instance);
        Assert.Equal(20_001, ExpectMsg<RegistryStatus>(TimeSpan.FromSeconds(30)).Peers);

        standIn.Tell(new StandIn.Send(new ReplicaAck(first.Id)));
        // 20 chunks of 1,000 changes (63 KB each) in remote messages of at most ~1 MiB: 2 of them, not 20 and not one of 1.3 MB.
        var serializer = new TrackerWireSerializer((ExtendedActorSystem)Sys);
        var messages = new List<object>();
        var changes = 0;
        while (changes < 20_000)
        {
            var message = probe.ExpectMsg<object>(TimeSpan.FromSeconds(20));
            Assert.InRange(serializer.ToBinary(message).Length, 1, 1_100_000);
            messages.Add(message);
            changes += (message is Batch batch ? batch.Messages : [(IMessage)message]).OfType<ReplicaBatch>().Sum(b => b.Changes.Count);
        }
        Assert.Equal(20_000, changes);
        Assert.Equal(2, messages.Count);
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    private (IActorRef Registry, IActorRef StandIn, TestProbe Probe, Placement Placement, Address NodeB) StartPair(TrackerSettings settings)
    {
        var systemB = ActorSystem.Create("actors", TrackerActorTests.NodeConfig(Frame));
        var a = Cluster.Get(Sys);
        a.Join(a.SelfAddress);
        Cluster.Get(systemB).Join(a.SelfAddress);
        AwaitCondition(() => a.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, TimeSpan.FromSeconds(15));
        var probe = CreateTestProbe();
        var standIn = systemB.ActorOf(Props.Create(() => new StandIn(probe.Ref)), "swarm-registry");
        var registry = Sys.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        AwaitAssert(() =>
        {
            registry.Tell(GetStatus.Instance);
            Assert.Equal(2, ExpectMsg<RegistryStatus>().View.Count);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        var nodeB = Cluster.Get(systemB).SelfAddress;
        AddCleanup(systemB);
        return (registry, standIn, probe, Placement.Compute([a.SelfAddress, nodeB], settings.Partitions, settings.Replicas), nodeB);
    }

    private readonly List<ActorSystem> _others = [];

    private void AddCleanup(ActorSystem system) => _others.Add(system);

    protected override void AfterAll()
    {
        foreach (var system in _others) Shutdown(system);
        base.AfterAll();
    }

    private static string Hash(int i) => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(BitConverter.GetBytes(i)));

    private static int Partition(string hash) => SwarmStore.PartitionOf(Id20.FromHex(hash), TrackerActorTests.Settings().Partitions);

    private static string Peer(string name) => Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(name.PadRight(20, '-')));

    private static AnnounceRequest Request(string hash, string peer, int port) =>
        new(hash, Peer(peer), IPAddress.Loopback, 6000 + port, 0, 0, 1, AnnounceEvent.None, true, false, 50, null, null);
}
