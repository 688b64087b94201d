using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Bencode;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Tests.Tracker;
using Actors.Torrent.Tracker;
using Actors.Torrent.Tracker.Udp;
using Actors.Web.Client;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.Udp.UdpTrackerProtocol;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// The peer's <see cref="Announcer"/> over UDP (BEP 15) and HTTP, with BEP 12 tiers: against our
/// tracker node (HTTP and UDP on one registry) and a hand-driven UDP socket standing in for a
/// silent or slow tracker.
/// </summary>
public sealed class AnnouncerTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    /// <summary>Fast retransmissions: 300 ms, then 600 ms, then give up.</summary>
    private static readonly UdpAnnounceSettings Fast = new(TimeSpan.FromMilliseconds(300), 1, TimeSpan.FromMinutes(1));
    private readonly TempDirectory _temp = new();
    private readonly List<UdpClient> _sockets = [];

    public AnnouncerTests() : base(TrackerActorTests.NodeConfig()) { }

    protected override void Dispose(bool disposing)
    {
        foreach (var socket in _sockets) socket.Dispose();
        _temp.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Our tracker node (HTTP and UDP on one port number) in a one-node cluster; returns the port.</summary>
    private async Task<int> StartTracker()
    {
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => Cluster.Get(Sys).State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        var web = new Actors.Web.Server.WebServerSettings("127.0.0.1", 0, null, 100, new Actors.Web.Http.HttpLimits(),
            TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), 64 * 1024, false, false);
        // A long interval: the announcers under test re-announce only when told to.
        var settings = TrackerActorTests.Settings() with { Interval = TimeSpan.FromMinutes(5), MinInterval = TimeSpan.FromMinutes(5) };
        var node = Sys.ActorOf(TrackerNode.Props(settings, web), "tracker-node");
        return (await node.Ask<UdpListening>(GetUdpListening.Instance, Wait)).LocalAddress.Port;
    }

    /// <summary>A torrent whose announce-list has exactly these tiers.</summary>
    private TorrentMetainfo Torrent(params string[][] tiers)
    {
        var (_, bytes, _) = SwarmFixture.MakeTorrent(_temp, $"t{tiers.Length}.bin", 40_000);
        var root = (BDictionary)BencodeDecoder.Decode(bytes);
        var entries = root.Entries.Where(e => e.Key.Text is not ("announce" or "announce-list")).ToList();
        entries.Add(new(BString.From("announce-list"), new BList(tiers.Select(t => (BValue)new BList(t.Select(u => (BValue)BString.From(u)).ToArray())).ToArray())));
        return TorrentMetainfo.Parse(BencodeEncoder.Encode(new BDictionary(entries)));
    }

    private IActorRef StartAnnouncer(TorrentMetainfo torrent, int port, IActorRef? http = null)
    {
        var peerId = System.Text.Encoding.ASCII.GetBytes($"-AC0001-{port:D12}");
        var props = Announcer.Props(torrent, peerId, port, http ?? Sys.ActorOf(HttpClientActor.Props()), new Announcer.Totals(0, 0, 40_000), Fast);
        // The announcer reports to its parent: a parent that passes everything on to the test actor.
        return Sys.ActorOf(Akka.Actor.Props.Create(() => new Parent(props, TestActor)));
    }

    private sealed class Parent : ReceiveActor
    {
        public Parent(Props child, IActorRef to)
        {
            var announcer = Context.ActorOf(child, "announcer");
            Receive<Announcer.AnnounceNow>(m => announcer.Forward(m));
            ReceiveAny(m => to.Forward(m));
        }
    }

    private UdpClient Silent()
    {
        var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        _sockets.Add(socket);
        return socket;
    }

    private static int Port(UdpClient socket) => ((IPEndPoint)socket.Client.LocalEndPoint!).Port;

    private static async Task<UdpReceiveResult?> Next(UdpClient socket, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try { return await socket.ReceiveAsync(timeout.Token); }
        catch (OperationCanceledException) { return null; }
    }

    [Fact]
    public async Task Our_peer_announces_over_udp_and_learns_the_swarm()
    {
        var port = await StartTracker();
        var url = $"udp://127.0.0.1:{port}/announce";
        var first = StartAnnouncer(Torrent([url]), 6001);
        Assert.Empty(ExpectMsg<Announcer.PeersDiscovered>(Wait).Peers);

        StartAnnouncer(Torrent([url]), 6002);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 6001)], ExpectMsg<Announcer.PeersDiscovered>(Wait).Peers);

        // Stopped is answered (the torrent waits for it when it shuts down).
        first.Tell(new Announcer.AnnounceNow(Actors.Torrent.Peer.Announce.AnnounceEvent.Stopped));
        Assert.True(ExpectMsg<Announcer.Announced>(Wait).Ok);
    }

    [Fact]
    public async Task A_silent_udp_tracker_is_retried_on_a_doubling_timeout_then_the_next_in_the_tier_answers_and_moves_to_the_front()
    {
        var port = await StartTracker();
        var silent = Silent();
        var announcer = StartAnnouncer(Torrent([$"udp://127.0.0.1:{Port(silent)}/announce", $"http://127.0.0.1:{port}/announce"]), 6003);

        var first = await Next(silent, Wait);
        var started = DateTime.UtcNow;
        var again = await Next(silent, Wait);
        var waited = DateTime.UtcNow - started;
        Assert.NotNull(first);
        Assert.NotNull(again);
        Assert.Equal(first.Value.Buffer, again.Value.Buffer); // the same connect, same transaction id
        Assert.Equal(UdpTrackerAnnounce.ProtocolId, BinaryPrimitives.ReadInt64BigEndian(first.Value.Buffer));
        Assert.InRange(waited, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        Assert.Null(await Next(silent, TimeSpan.FromMilliseconds(900))); // MaxRetransmissions = 1

        ExpectMsg<Announcer.PeersDiscovered>(Wait); // from the HTTP tracker, second in the tier

        // BEP 12: the HTTP tracker answered, so it now comes first in its tier.
        announcer.Tell(new Announcer.AnnounceNow(Actors.Torrent.Peer.Announce.AnnounceEvent.Stopped));
        Assert.True(ExpectMsg<Announcer.Announced>(Wait).Ok);
        Assert.Null(await Next(silent, TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task When_a_whole_tier_fails_the_next_tier_is_tried()
    {
        var port = await StartTracker();
        var silent = Silent();
        StartAnnouncer(Torrent([$"udp://127.0.0.1:{Port(silent)}/announce"], [$"udp://127.0.0.1:{port}/announce"]), 6004);
        Assert.NotNull(await Next(silent, Wait));
        ExpectMsg<Announcer.PeersDiscovered>(Wait);
    }

    [Fact]
    public async Task A_tracker_that_answers_a_retransmission_is_used_and_its_connection_id_reused()
    {
        var tracker = Silent();
        StartAnnouncer(Torrent([$"udp://127.0.0.1:{Port(tracker)}/announce"]), 6005);

        // Ignore the first connect, answer the retransmitted one.
        var connect = (await Next(tracker, Wait))!.Value;
        connect = (await Next(tracker, Wait))!.Value;
        var transaction = BinaryPrimitives.ReadInt32BigEndian(connect.Buffer.AsSpan(12));
        await tracker.SendAsync(UdpTrackerPackets.ConnectAnswer(transaction, 0x7777), connect.RemoteEndPoint);

        var announce = (await Next(tracker, Wait))!.Value;
        Assert.Equal(98, announce.Buffer.Length);
        Assert.Equal(0x7777, BinaryPrimitives.ReadInt64BigEndian(announce.Buffer));
        Assert.Equal(6005, BinaryPrimitives.ReadUInt16BigEndian(announce.Buffer.AsSpan(96)));
        var peers = new[] { new SwarmPeer(new string('e', 40), IPAddress.Parse("192.0.2.9"), 9999) };
        await tracker.SendAsync(UdpTrackerPackets.AnnounceAnswer(BinaryPrimitives.ReadInt32BigEndian(announce.Buffer.AsSpan(12)),
            TimeSpan.FromMinutes(1), 1, 1, peers, ipv6: false), announce.RemoteEndPoint);

        Assert.Equal([new IPEndPoint(IPAddress.Parse("192.0.2.9"), 9999)], ExpectMsg<Announcer.PeersDiscovered>(Wait).Peers);
    }
}
