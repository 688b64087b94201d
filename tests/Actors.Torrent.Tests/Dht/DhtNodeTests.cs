using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Bencode;
using Actors.Torrent.Dht;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;

namespace Actors.Torrent.Tests.Dht;

/// <summary>DHT nodes on loopback UDP, in one actor system; a raw UdpClient plays a foreign node.</summary>
public sealed class DhtNodeTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static DhtSettings Loopback(params IPEndPoint[] bootstrap) => new()
    {
        Host = IPAddress.Loopback,
        Bootstrap = bootstrap,
        QueryTimeout = TimeSpan.FromMilliseconds(800),
        MaintenanceInterval = TimeSpan.FromSeconds(1),
        BootstrapRetry = TimeSpan.FromMilliseconds(300),
    };

    private (IActorRef Node, DhtNodeStarted Started) StartNode(DhtSettings settings, string? name = null)
    {
        var probe = CreateTestProbe();
        DatagramMailbox.Ensure(Sys);
        var node = Sys.ActorOf(DhtNode.Props(settings, probe.Ref), name ?? $"dht-{Guid.NewGuid():N}");
        var started = probe.ExpectMsg<DhtNodeStarted>(Wait);
        return (node, started);
    }

    private static async Task<KrpcMessage> Exchange(UdpClient client, IPEndPoint to, KrpcMessage query)
    {
        var bytes = KrpcCodec.Encode(query);
        await client.SendAsync(bytes, to);
        using var cancel = new CancellationTokenSource(Wait);
        var reply = await client.ReceiveAsync(cancel.Token);
        return KrpcCodec.Decode(reply.Buffer);
    }

    [Fact]
    public async Task A_node_answers_ping_find_node_get_peers_and_announce_peer_from_a_foreign_client()
    {
        var (_, started) = StartNode(Loopback());
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var me = NodeId.Random();
        var hash = NodeId.Random();
        var to = started.EndPoint;

        var pong = Assert.IsType<KrpcResponse>(await Exchange(client, to, new PingQuery([1, 2], me)));
        Assert.Equal(started.Id, pong.Sender);
        Assert.Equal(new byte[] { 1, 2 }, pong.TransactionId);

        // It learned about us from our query: find_node returns us.
        var found = Assert.IsType<KrpcResponse>(await Exchange(client, to, new FindNodeQuery([3], me, me)));
        Assert.Contains(found.Nodes, n => n.Id == me);

        var first = Assert.IsType<KrpcResponse>(await Exchange(client, to, new GetPeersQuery([4], me, hash)));
        Assert.NotNull(first.Token);
        Assert.Empty(first.Peers);

        var bad = Assert.IsType<KrpcError>(await Exchange(client, to, new AnnouncePeerQuery([5], me, hash, 6881, false, [9, 9, 9, 9, 9, 9, 9, 9])));
        Assert.Equal(KrpcError.Protocol, bad.Code);

        Assert.IsType<KrpcResponse>(await Exchange(client, to, new AnnouncePeerQuery([6], me, hash, 6881, false, first.Token!)));
        var implied = Assert.IsType<KrpcResponse>(await Exchange(client, to, new AnnouncePeerQuery([7], me, hash, 1, true, first.Token!)));
        Assert.Equal(started.Id, implied.Sender);

        var second = Assert.IsType<KrpcResponse>(await Exchange(client, to, new GetPeersQuery([8], me, hash)));
        var ourPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        Assert.Equal(
            new[] { new IPEndPoint(IPAddress.Loopback, 6881), new IPEndPoint(IPAddress.Loopback, ourPort) }.OrderBy(e => e.Port),
            second.Peers.OrderBy(e => e.Port));
    }

    [Fact]
    public async Task A_malformed_query_gets_error_203_an_unknown_method_204_and_garbage_nothing()
    {
        var (node, started) = StartNode(Loopback());
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var shortId = "d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe"u8.ToArray();
        await client.SendAsync(shortId, started.EndPoint);
        using (var cancel = new CancellationTokenSource(Wait))
        {
            var error = Assert.IsType<KrpcError>(KrpcCodec.Decode((await client.ReceiveAsync(cancel.Token)).Buffer));
            Assert.Equal(KrpcError.Protocol, error.Code);
            Assert.Equal("xy"u8.ToArray(), error.TransactionId);
        }
        var unknown = Assert.IsType<KrpcError>(await Exchange(client, started.EndPoint, new UnknownQuery([1], NodeId.Random(), "vote")));
        Assert.Equal(KrpcError.MethodUnknown, unknown.Code);

        await client.SendAsync(new byte[2000], started.EndPoint);
        await client.SendAsync("garbage"u8.ToArray(), started.EndPoint);
        // Still alive and answering after the garbage; the garbage was counted as dropped.
        Assert.IsType<KrpcResponse>(await Exchange(client, started.EndPoint, new PingQuery([2], NodeId.Random())));
        var status = await node.Ask<DhtStatus>(GetDhtStatus.Instance, Wait);
        Assert.True(status.Dropped >= 3, $"dropped {status.Dropped}");
    }

    [Fact]
    public async Task A_source_sending_faster_than_its_rate_is_cut_off()
    {
        var (node, started) = StartNode(Loopback() with { RatePerSource = 5 });
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var ping = KrpcCodec.Encode(new PingQuery([1], NodeId.Random()));
        for (var i = 0; i < 100; i++) await client.SendAsync(ping, started.EndPoint);
        await AwaitAssertAsync(async () =>
        {
            var status = await node.Ask<DhtStatus>(GetDhtStatus.Instance, Wait);
            Assert.Equal(100, status.Received);
            // A burst of 10 passes, the rest is dropped unread.
            Assert.InRange(status.Dropped, 85, 90);
        }, Wait);
    }

    [Fact]
    public void A_lookup_with_nobody_to_ask_says_so_at_once()
    {
        var (node, _) = StartNode(Loopback());
        node.Tell(new GetPeers(NodeId.Random()), TestActor);
        var result = ExpectMsg<LookupCompleted>(Wait);
        Assert.Equal("no known nodes", result.Error);
    }

    [Fact]
    public void A_taken_port_fails_the_node_with_a_fatal_error_naming_the_port()
    {
        using var taken = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)taken.Client.LocalEndPoint!).Port;
        var probe = CreateTestProbe();
        DatagramMailbox.Ensure(Sys);
        var props = DhtNode.Props(Loopback() with { Port = port });
        Sys.ActorOf(Props.Create(() => new FailureCatcher(props, probe.Ref)));
        var failure = probe.ExpectMsg<Exception>(Wait);
        Assert.Contains(port.ToString(), Actors.Net.Supervision.FailurePolicy.Fatal(failure)!.Message);
    }

    [Fact]
    public void Fifty_nodes_find_each_other_and_a_get_peers_lookup_finds_an_announcer()
    {
        var (first, firstStarted) = StartNode(Loopback());
        var nodes = new List<(IActorRef Node, DhtNodeStarted Started)> { (first, firstStarted) };
        for (var i = 1; i < 50; i++) nodes.Add(StartNode(Loopback(firstStarted.EndPoint)));

        // Every node joins: its table holds several others (the first bootstrap lookups run
        // concurrently; a node with fewer than k contacts keeps looking every second here).
        AwaitAssert(() =>
        {
            var sizes = nodes.Select(n => n.Node.Ask<DhtStatus>(GetDhtStatus.Instance, Wait).Result.TableSize).ToList();
            Assert.True(sizes.All(s => s >= 6), "table sizes: " + string.Join(' ', sizes));
        }, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));

        // A find_node for a node's id from far away finds that node.
        nodes[3].Node.Tell(new FindNode(nodes[41].Started.Id), TestActor);
        var find = ExpectMsg<LookupCompleted>(Wait);
        Assert.Equal(nodes[41].Started.Id, find.Closest[0].Id);

        var hash = NodeId.Random();
        nodes[7].Node.Tell(new AnnouncePeer(hash, 51413), TestActor);
        var announced = ExpectMsg<AnnounceCompleted>(Wait);
        Assert.True(announced.AcceptedBy >= 1, $"accepted by {announced.AcceptedBy}");

        nodes[33].Node.Tell(new GetPeers(hash), TestActor);
        var got = ExpectMsg<LookupCompleted>(Wait);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 51413), got.Peers);
        // 0 when the searcher is itself one of the 8 nodes the announce reached (its own store counts).
        Assert.InRange(got.Hops, 0, 6);
        Assert.True(got.Responded >= 1);
    }

    [Fact]
    public void A_restarted_node_keeps_its_id_and_rejoins_through_its_state_file()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "dht.state");
        var (a, aStarted) = StartNode(Loopback());
        var (b, bStarted) = StartNode(Loopback(aStarted.EndPoint) with { StateFile = file });
        AwaitAssert(() => Assert.True(b.Ask<DhtStatus>(GetDhtStatus.Instance, Wait).Result.GoodNodes >= 1), Wait);
        Watch(b);
        Sys.Stop(b);
        ExpectTerminated(b, Wait);

        var saved = DhtStateFile.Load(file);
        Assert.NotNull(saved);
        Assert.Equal(bStarted.Id, saved.Value.Id);
        Assert.Contains(saved.Value.Nodes, n => n.Id == aStarted.Id);

        // No bootstrap given: it rejoins through the saved node.
        var (again, againStarted) = StartNode(Loopback() with { StateFile = file });
        Assert.Equal(bStarted.Id, againStarted.Id);
        AwaitAssert(() => Assert.True(again.Ask<DhtStatus>(GetDhtStatus.Instance, Wait).Result.GoodNodes >= 1), Wait);
    }

    [Fact]
    public void A_damaged_state_file_is_refused_with_a_clear_error()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "dht.state");
        File.WriteAllBytes(file, "not bencode"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => DhtStateFile.Load(file));
        File.WriteAllBytes(file, BencodeEncoder.Encode(new BDictionaryBuilder().Add("id", "short").Build()));
        Assert.Throws<InvalidDataException>(() => DhtStateFile.Load(file));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_lookup_gives_a_slow_node_s_slot_to_another_and_does_not_wait_for_it_only_with_the_slow_query_rule(bool slowQueryRule)
    {
        // Three contacts: two live nodes and a foreign one that answers its first query (so it is
        // in the table with its id) and then never again, like a node that just died.
        var (_, first) = StartNode(Loopback());
        var (_, second) = StartNode(Loopback(first.EndPoint));
        using var dying = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var dyingEndPoint = (IPEndPoint)dying.Client.LocalEndPoint!;
        var asked = 0;
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var datagram = await dying.ReceiveAsync(stop.Token);
                if (Interlocked.Increment(ref asked) == 1 && KrpcCodec.Decode(datagram.Buffer) is KrpcQuery query)
                    await dying.SendAsync(KrpcCodec.Encode(KrpcResponse.Simple(query.TransactionId, NodeId.Random())), datagram.RemoteEndPoint);
            }
        });
        var queryTimeout = TimeSpan.FromSeconds(3);
        var (node, _) = StartNode(Loopback(first.EndPoint, second.EndPoint, dyingEndPoint) with
        {
            QueryTimeout = queryTimeout,
            SlowQueryAfter = slowQueryRule ? TimeSpan.FromMilliseconds(300) : TimeSpan.Zero,
            MaintenanceInterval = TimeSpan.FromMinutes(1),
        });
        await AwaitAssertAsync(async () => Assert.Equal(3, (await node.Ask<DhtStatus>(GetDhtStatus.Instance, Wait)).TableSize), Wait);

        var done = await node.Ask<LookupCompleted>(new FindNode(NodeId.Random()), Wait);
        Assert.True(Volatile.Read(ref asked) >= 2, "the dying node was asked");
        Assert.True(done.Responded >= 2, $"{done.Responded} answered");
        if (slowQueryRule) Assert.True(done.Elapsed < queryTimeout / 2, $"{done.Elapsed.TotalMilliseconds:F0} ms");
        else Assert.True(done.Elapsed >= queryTimeout - TimeSpan.FromMilliseconds(100), $"{done.Elapsed.TotalMilliseconds:F0} ms");
        stop.Cancel();
        await answering.ContinueWith(_ => { });
    }

    /// <summary>Parent that reports its child's failure instead of restarting it.</summary>
    private sealed class FailureCatcher : ReceiveActor
    {
        private readonly IActorRef _report;

        public FailureCatcher(Props child, IActorRef report)
        {
            _report = report;
            Context.ActorOf(child);
        }

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
        {
            _report.Tell(ex);
            return Directive.Stop;
        });
    }
}
