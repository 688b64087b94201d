using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Actors.Net.Tcp;
using Actors.Torrent.Bencode;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Tracker;
using Actors.Torrent.Tracker.Udp;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;
using static Actors.Torrent.Tracker.Udp.UdpTrackerProtocol;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// The UDP tracker actor on a real loopback socket in a one-node cluster, next to the HTTP edge,
/// both on one <see cref="SwarmRegistry"/>; the client is a plain <see cref="UdpClient"/>.
/// </summary>
public sealed class UdpTrackerActorTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly byte[] Hash = Enumerable.Range(0, 20).Select(i => (byte)(0x5A ^ i)).ToArray();
    private readonly List<UdpClient> _clients = [];
    private IActorRef? _registry;
    private long _now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public UdpTrackerActorTests() : base(TrackerActorTests.NodeConfig()) { }

    protected override void Dispose(bool disposing)
    {
        foreach (var client in _clients) client.Dispose();
        base.Dispose(disposing);
    }

    private IActorRef Registry()
    {
        if (_registry is not null) return _registry;
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => Cluster.Get(Sys).State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        return _registry = Sys.ActorOf(SwarmRegistry.Props(TrackerActorTests.Settings()), "swarm-registry");
    }

    /// <summary>A UDP tracker on <paramref name="address"/>:0 whose connection ids use this test's clock.</summary>
    private (IActorRef Tracker, IPEndPoint Local) StartUdp(IPAddress? address = null, IActorRef? registry = null, TrackerSettings? settings = null)
    {
        DatagramMailbox.Ensure(Sys);
        var ids = new UdpConnectionIds(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), TimeSpan.FromMinutes(2), () => _now);
        var tracker = Sys.ActorOf(UdpTracker.Props(settings ?? TrackerActorTests.Settings(), registry ?? Registry(),
            new IPEndPoint(address ?? IPAddress.Loopback, 0), ids));
        var local = tracker.Ask<UdpListening>(GetUdpListening.Instance, Wait).Result.LocalAddress;
        return (tracker, local);
    }

    private UdpClient Client(IPAddress? address = null)
    {
        var client = new UdpClient(new IPEndPoint(address ?? IPAddress.Loopback, 0));
        _clients.Add(client);
        return client;
    }

    private static int Port(UdpClient client) => ((IPEndPoint)client.Client.LocalEndPoint!).Port;

    private static async Task<byte[]> Exchange(UdpClient client, IPEndPoint tracker, byte[] request)
    {
        await client.SendAsync(request, tracker);
        using var timeout = new CancellationTokenSource(Wait);
        return (await client.ReceiveAsync(timeout.Token)).Buffer;
    }

    private static async Task<byte[]?> ReceiveWithin(UdpClient client, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try { return (await client.ReceiveAsync(timeout.Token)).Buffer; }
        catch (OperationCanceledException) { return null; }
    }

    private static async Task<long> Connect(UdpClient client, IPEndPoint tracker)
    {
        var answer = await Exchange(client, tracker, UdpTrackerAnnounce.ConnectRequest(0x0C0FFEE));
        Assert.Equal(16, answer.Length);
        Assert.Equal(0x0C0FFEE, UdpTrackerAnnounce.TransactionId(answer));
        return UdpTrackerAnnounce.ParseConnectAnswer(answer);
    }

    private static async Task<byte[]> Announce(UdpClient client, IPEndPoint tracker, long left, int eventCode = 2, string peer = "")
    {
        var connectionId = await Connect(client, tracker);
        var peerId = Encoding.ASCII.GetBytes((peer.Length > 0 ? peer : $"udp-{Port(client)}").PadRight(20, '-'));
        return await Exchange(client, tracker,
            UdpTrackerPacketsTests.AnnounceBytes(connectionId, transactionId: 31, eventCode: eventCode, port: (ushort)Port(client),
                left: left, hash: Hash, peerId: peerId));
    }

    private static (int Interval, int Leechers, int Seeders) Counts(byte[] answer)
    {
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(answer));
        Assert.Equal(31, BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(4)));
        return (BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(8)), BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(12)),
            BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(16)));
    }

    private static void AssertError(byte[] answer, int transactionId, string message)
    {
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(answer));
        Assert.Equal(transactionId, BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(4)));
        Assert.Equal(message, Encoding.ASCII.GetString(answer, 8, answer.Length - 8));
    }

    [Fact]
    public async Task Connect_announce_and_scrape_over_loopback_udp()
    {
        var (_, tracker) = StartUdp();
        var seeder = Client();
        var leecher = Client();

        Assert.Equal((1, 0, 1), Counts(await Announce(seeder, tracker, left: 0)));
        var answer = await Announce(leecher, tracker, left: 100);

        Assert.Equal((1, 1, 1), Counts(answer));
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, Port(seeder))], UdpTrackerAnnounce.ParseAnnounceAnswer(answer, ipv6: false).Peers);

        var unknown = Enumerable.Repeat((byte)1, 20).ToArray();
        var scrape = await Exchange(leecher, tracker, UdpTrackerPacketsTests.ScrapeBytes(await Connect(leecher, tracker), 77, Hash, unknown));
        Assert.Equal("00000002" + "0000004d" + "00000001" + "00000000" + "00000001" + "000000000000000000000000", Convert.ToHexStringLower(scrape));
    }

    [Fact]
    public async Task Udp_and_http_announces_meet_in_one_swarm()
    {
        var registry = Registry();
        var http = Sys.ActorOf(EndpointConnections.Props(new TrackerHttp(TrackerActorTests.Settings(), registry)));
        var (_, tracker) = StartUdp();
        var query = TrackerActorTests.Query("http-peer", 7000, "&left=0&event=started", Hash);
        http.Tell(new HttpRequestReceived(new HttpRequest("GET", "/announce?" + query, Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []),
            new IPEndPoint(IPAddress.Parse("10.0.0.2"), 50000)));
        ExpectMsg<HttpReply>(Wait);

        var client = Client();
        var answer = await Announce(client, tracker, left: 10);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.2"), 7000)], UdpTrackerAnnounce.ParseAnnounceAnswer(answer, ipv6: false).Peers);

        http.Tell(new HttpRequestReceived(new HttpRequest("GET", "/announce?" + query, Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []),
            new IPEndPoint(IPAddress.Parse("10.0.0.2"), 50000)));
        var peers = ((BDictionary)BencodeDecoder.Decode(ExpectMsg<HttpReply>(Wait).Body)).Get<BString>("peers")!.Bytes.ToArray();
        Assert.Equal("7f000001" + Port(client).ToString("x4"), Convert.ToHexStringLower(peers));
    }

    [Fact]
    public async Task A_request_over_ipv6_gets_ipv6_peers_in_18_byte_entries()
    {
        var (_, tracker) = StartUdp(IPAddress.IPv6Loopback);
        var first = Client(IPAddress.IPv6Loopback);
        var second = Client(IPAddress.IPv6Loopback);

        await Announce(first, tracker, left: 0);
        var answer = await Announce(second, tracker, left: 5);

        Assert.Equal(20 + 18, answer.Length);
        Assert.Equal([new IPEndPoint(IPAddress.IPv6Loopback, Port(first))], UdpTrackerAnnounce.ParseAnnounceAnswer(answer, ipv6: true).Peers);
    }

    [Fact]
    public async Task Without_a_valid_connection_id_the_answer_is_an_error_no_bigger_than_the_request_and_nothing_is_recorded()
    {
        var (udp, tracker) = StartUdp();
        var forger = Client();

        var announce = UdpTrackerPacketsTests.AnnounceBytes(connectionId: 0x41727101980, transactionId: 5, hash: Hash);
        var answer = await Exchange(forger, tracker, announce);
        Assert.True(answer.Length <= announce.Length);
        AssertError(answer, 5, "unknown or expired connection id");

        // A 16-byte scrape may only get 16 bytes back: the message is cut.
        var scrape = UdpTrackerPacketsTests.ScrapeBytes(12345, 6);
        answer = await Exchange(forger, tracker, scrape);
        Assert.Equal(16, answer.Length);
        AssertError(answer, 6, "unknown ");

        // Another source's id is no good either.
        var other = Client();
        var stolen = await Connect(other, tracker);
        AssertError(await Exchange(forger, tracker, UdpTrackerPacketsTests.AnnounceBytes(stolen, 8, hash: Hash)), 8, "unknown or expired connection id");

        var honest = await Announce(Client(), tracker, left: 1);
        Assert.Empty(UdpTrackerAnnounce.ParseAnnounceAnswer(honest, false).Peers);
        var stats = await udp.Ask<UdpTrackerStats>(GetUdpStats.Instance, Wait);
        Assert.Equal(3, stats.BadConnectionIds);
        Assert.Equal(1, stats.Announces);
    }

    [Fact]
    public async Task A_connection_id_expires_after_two_windows()
    {
        var (_, tracker) = StartUdp();
        var client = Client();
        var id = await Connect(client, tracker);
        _now += 240;
        AssertError(await Exchange(client, tracker, UdpTrackerPacketsTests.AnnounceBytes(id, 9, hash: Hash)), 9, "unknown or expired connection id");
        var fresh = await Connect(client, tracker);
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(await Exchange(client, tracker, UdpTrackerPacketsTests.AnnounceBytes(fresh, 9, hash: Hash))));
    }

    [Fact]
    public async Task Garbage_gets_no_answer_and_is_counted()
    {
        var (udp, tracker) = StartUdp();
        var client = Client();
        await client.SendAsync(new byte[5], tracker);
        var noMagic = UdpTrackerAnnounce.ConnectRequest(1);
        noMagic[2] = 0xFF;
        await client.SendAsync(noMagic, tracker);
        await client.SendAsync(new byte[UdpTrackerPackets.MaxRequestLength + 1], tracker);
        await client.SendAsync(new byte[60_000], tracker); // cut by Akka.IO's buffer, and dropped

        var answer = await Exchange(client, tracker, UdpTrackerAnnounce.ConnectRequest(424242));
        Assert.Equal(424242, UdpTrackerAnnounce.TransactionId(answer)); // the first datagram back answers the connect
        Assert.Null(await ReceiveWithin(client, TimeSpan.FromMilliseconds(200)));
        var stats = await udp.Ask<UdpTrackerStats>(GetUdpStats.Instance, Wait);
        Assert.Equal((5L, 4L, 1L), (stats.Received, stats.Dropped, stats.Connects));
    }

    [Fact]
    public async Task Bad_requests_from_a_connected_client_get_an_error_with_the_reason()
    {
        var (_, tracker) = StartUdp();
        var client = Client();
        var id = await Connect(client, tracker);
        AssertError(await Exchange(client, tracker, UdpTrackerPacketsTests.AnnounceBytes(id, 3, eventCode: 9)), 3, "unknown event");
        var full = UdpTrackerPacketsTests.ScrapeBytes(id, 4, Enumerable.Range(0, 74).Select(_ => Hash).ToArray());
        var answer = await Exchange(client, tracker, full);
        Assert.True(answer.Length == 8 + 74 * 12, Convert.ToHexStringLower(answer) + " " + Encoding.ASCII.GetString(answer));
        Assert.Equal("0000000200000004", Convert.ToHexStringLower(await Exchange(client, tracker, UdpTrackerPacketsTests.ScrapeBytes(id, 4))));
    }

    [Fact]
    public async Task Announces_go_to_the_registry_with_the_datagram_source_and_beyond_the_bound_get_busy()
    {
        var registry = CreateTestProbe();
        var (_, tracker) = StartUdp(registry: registry, settings: TrackerActorTests.Settings() with { MaxPendingAnnounces = 2 });
        var client = Client();
        var id = await Connect(client, tracker);

        await client.SendAsync(UdpTrackerPacketsTests.AnnounceBytes(id, 1, port: 5555, hash: Hash), tracker);
        await client.SendAsync(UdpTrackerPacketsTests.AnnounceBytes(id, 2, hash: Hash), tracker);
        var first = registry.ExpectMsg<Announce>(Wait);
        registry.ExpectMsg<Announce>(Wait);
        Assert.Equal((IPAddress.Loopback, 5555, Convert.ToHexStringLower(Hash)), (first.Request.Ip, first.Request.Port, first.Request.InfoHash));

        AssertError(await Exchange(client, tracker, UdpTrackerPacketsTests.AnnounceBytes(id, 3, hash: Hash)), 3, "tracker busy, retry later");

        // The registry's failure reaches the client as an error packet, and frees a place.
        registry.Reply(new AnnounceFailed("tracker node unavailable, retry later", first.Correlation));
        AssertError((await ReceiveWithin(client, Wait))!, 1, "tracker node unavailable, retry later");
        await client.SendAsync(UdpTrackerPacketsTests.AnnounceBytes(id, 4, hash: Hash), tracker);
        registry.ExpectMsg<Announce>(Wait);
    }

    [Fact]
    public void A_udp_port_already_taken_is_fatal_for_the_role()
    {
        var (_, local) = StartUdp();
        Assert.True(typeof(Actors.Net.Supervision.FatalRoleException).IsAssignableFrom(typeof(UdpTracker.BindFailedException)),
            "a taken UDP port must be fatal for the role (FailurePolicy escalates it)");
        // The first failure is what counts. Under the user guardian (no role above it) the actor is
        // restarted and fails its bind again, so how many errors arrive within a window is timing:
        // an exact count was flaky.
        var errors = CreateTestProbe();
        Sys.EventStream.Subscribe(errors.Ref, typeof(Akka.Event.Error));
        var udp = Sys.ActorOf(UdpTracker.Props(TrackerActorTests.Settings(), Registry(), local));
        errors.FishForMessage<Akka.Event.Error>(e => e.Cause is UdpTracker.BindFailedException b && b.Message.Contains("cannot listen for UDP"), Wait);
        Sys.Stop(udp);
    }

    private static WebServerSettings Web(int port) => new("127.0.0.1", port, null, 100, new HttpLimits(),
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), 64 * 1024, false, false);

    [Fact]
    public async Task A_tracker_node_listens_for_udp_on_its_http_port_number_by_default()
    {
        Registry(); // joins the cluster
        var node = Sys.ActorOf(TrackerNode.Props(TrackerActorTests.Settings(), Web(0)), "node-same");
        var http = await node.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, Wait);
        var udp = await node.Ask<UdpListening>(GetUdpListening.Instance, Wait);
        Assert.Equal(((IPEndPoint)http.LocalAddress).Port, udp.LocalAddress.Port);
        await Connect(Client(), udp.LocalAddress);
    }

    [Fact]
    public async Task Udp_port_moves_the_udp_tracker_and_zero_turns_it_off()
    {
        Registry();
        var free = Ports.Free();
        var moved = Sys.ActorOf(TrackerNode.Props(TrackerActorTests.Settings() with { UdpPort = free }, Web(0)), "node-moved");
        Assert.Equal(free, (await moved.Ask<UdpListening>(GetUdpListening.Instance, Wait)).LocalAddress.Port);

        var off = Sys.ActorOf(TrackerNode.Props(TrackerActorTests.Settings() with { UdpPort = 0 }, Web(0)), "node-off");
        var http = await off.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, Wait);
        off.Tell(GetUdpListening.Instance);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        var client = Client();
        await client.SendAsync(UdpTrackerAnnounce.ConnectRequest(1), new IPEndPoint(IPAddress.Loopback, ((IPEndPoint)http.LocalAddress).Port));
        Assert.Null(await ReceiveWithin(client, TimeSpan.FromMilliseconds(300)).ContinueWith(t => t.IsFaulted ? null : t.Result));
    }
}
