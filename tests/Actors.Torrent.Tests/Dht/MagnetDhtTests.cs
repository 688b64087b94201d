using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Bencode;
using Actors.Torrent.Dht;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Magnet;
using Actors.Torrent.Tests.Peer;
using Actors.Web.Client;
using Actors.Web.Http;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;

namespace Actors.Torrent.Tests.Dht;

/// <summary>
/// Magnet links resolved through the DHT (BEP 5 + BEP 9): a <see cref="DhtPeerSource"/> feeds the
/// <see cref="MetadataFetcher"/> as it feeds a torrent, alone or beside the link's tracker.
/// </summary>
public sealed class MagnetDhtTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _temp = new();

    public MagnetDhtTests() : base(SwarmFixture.Config) { }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _temp.Dispose();
    }

    private IActorRef StartNode(IPEndPoint[] bootstrap, out IPEndPoint endPoint)
    {
        var probe = CreateTestProbe();
        DatagramMailbox.Ensure(Sys);
        var node = Sys.ActorOf(DhtNode.Props(new DhtSettings
        {
            Host = IPAddress.Loopback,
            Bootstrap = bootstrap,
            QueryTimeout = TimeSpan.FromMilliseconds(800),
            MaintenanceInterval = TimeSpan.FromSeconds(1),
            BootstrapRetry = TimeSpan.FromMilliseconds(300),
        }, probe.Ref));
        endPoint = probe.ExpectMsg<DhtNodeStarted>(Wait).EndPoint;
        return node;
    }

    /// <summary>A small DHT (a first node and four more), and the node of each peer joined to it.</summary>
    private IActorRef[] Dht(int peers)
    {
        StartNode([], out var first);
        for (var i = 0; i < 4; i++) StartNode([first], out _);
        return Enumerable.Range(0, peers).Select(_ => StartNode([first], out IPEndPoint _)).ToArray();
    }

    private static DhtPeerSourceSettings Source(TorrentMetainfo torrent, int port) =>
        new(NodeId.FromBytes(torrent.InfoHash.Span), port) { RetryWhenEmpty = TimeSpan.FromSeconds(1) };

    [Fact]
    public async Task A_magnet_link_with_no_tracker_finds_our_seeder_through_the_DHT_and_downloads()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "dht.bin", 300 * 16 * 1024 - 7, pieceLength: 16 * 1024);
        var nodes = Dht(2);
        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        var seederPort = await SwarmFixture.PortOf(seeder);
        Sys.ActorOf(DhtPeerSource.Props(Source(torrent, seederPort), nodes[0], seeder));

        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHashHex}");
        Assert.Empty(link.Trackers);
        Assert.Empty(link.Peers);
        var port = Ports.Free();
        var fetcher = Sys.ActorOf(MetadataFetcher.Props(link, new MagnetSettings(TorrentSettings.NewPeerId()) { ListenPort = port }, ActorRefs.Nobody));
        Sys.ActorOf(DhtPeerSource.Props(Source(torrent, port), nodes[1], fetcher));
        var resolved = Assert.IsType<MetadataResolved>(await fetcher.Ask<object>(FetchMetadata.Instance, Wait));
        Assert.Equal(torrent.RawInfo.ToArray(), resolved.Torrent.RawInfo.ToArray());
        Assert.Equal(SwarmFixture.Loopback(seederPort), resolved.Peers[0]);

        var leecher = SwarmFixture.Start(Sys, new TorrentSettings(resolved.Torrent, _temp.Combine("leech"))
        { Host = "127.0.0.1", Port = port, InitialPeers = resolved.Peers }, "leecher");
        await SwarmFixture.Completion(leecher, Wait);
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "dht.bin")));
    }

    [Fact]
    public async Task A_magnet_link_with_a_tracker_and_the_DHT_dials_the_peers_of_both()
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "both.bin", 100 * 16 * 1024, pieceLength: 16 * 1024);
        var nodes = Dht(2);
        // The tracker names a peer that accepts connections and never says a word: the metadata can only come from the DHT's peer.
        using var mute = new TcpListener(IPAddress.Loopback, 0);
        mute.Start();
        var mutePort = ((IPEndPoint)mute.LocalEndpoint).Port;
        var tracker = Sys.ActorOf(Props.Create(() => new FakeTracker(SwarmFixture.Loopback(mutePort))));

        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        var seederPort = await SwarmFixture.PortOf(seeder);
        Sys.ActorOf(DhtPeerSource.Props(Source(torrent, seederPort), nodes[0], seeder));

        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHashHex}&tr=http%3A%2F%2F127.0.0.1%3A9%2Fannounce");
        var port = Ports.Free();
        var fetcher = Sys.ActorOf(MetadataFetcher.Props(link, new MagnetSettings(TorrentSettings.NewPeerId()) { ListenPort = port }, tracker));
        var asked = fetcher.Ask<object>(FetchMetadata.Instance, Wait);
        // The DHT joins only once the tracker's peer has been dialled: started together, a quick DHT
        // lookup could resolve the metadata before the tracker's answer arrived (seen once in CI).
        Assert.True(await AcceptedWithin(mute, Wait), "the tracker's peer was dialled");
        Sys.ActorOf(DhtPeerSource.Props(Source(torrent, port), nodes[1], fetcher));
        var resolved = Assert.IsType<MetadataResolved>(await asked);
        Assert.Equal(torrent.RawInfo.ToArray(), resolved.Torrent.RawInfo.ToArray());
        Assert.Equal(SwarmFixture.Loopback(seederPort), resolved.Peers[0]); // from the DHT, it sent the metadata
        Assert.Contains(SwarmFixture.Loopback(mutePort), resolved.Peers); // from the tracker, handed on to the torrent
    }

    [Fact]
    public async Task A_magnet_link_whose_hash_nobody_announced_fails_saying_what_was_tried()
    {
        var nodes = Dht(1);
        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{Convert.ToHexStringLower(NodeId.Random().ToBytes())}");
        var fetcher = Sys.ActorOf(MetadataFetcher.Props(link, new MagnetSettings(TorrentSettings.NewPeerId()) { ListenPort = Ports.Free() }, ActorRefs.Nobody));
        Sys.ActorOf(DhtPeerSource.Props(new DhtPeerSourceSettings(NodeId.FromBytes(link.InfoHash), 1234), nodes[0], fetcher));
        var asked = fetcher.Ask<object>(FetchMetadata.Instance, Wait);
        await Task.Delay(TimeSpan.FromSeconds(2));
        fetcher.Tell(MetadataFetcher.GiveUp.Instance);
        var failed = Assert.IsType<MetadataFailed>(await asked);
        Assert.Contains("asked 0 peer(s)", failed.Reason);
        Assert.Contains("no other source (--dht-bootstrap) found one", failed.Reason);
    }

    private static async Task<bool> AcceptedWithin(TcpListener listener, TimeSpan time)
    {
        using var cancel = new CancellationTokenSource(time);
        try
        {
            using var _ = await listener.AcceptTcpClientAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stands in for the HTTP client: every announce is answered with one compact peer.</summary>
    private sealed class FakeTracker : ReceiveActor
    {
        public FakeTracker(IPEndPoint peer)
        {
            var body = BencodeEncoder.Encode(new BDictionaryBuilder()
                .Add("interval", 1800)
                .Add("peers", CompactEncoding.EncodePeer(peer))
                .Build());
            Receive<HttpGet>(get => Sender.Tell(new HttpGetSucceeded(get.Url,
                new HttpResponse(200, "OK", Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), body))));
        }
    }
}
