using System.Diagnostics;
using System.Security.Cryptography;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Tests.Tracker;
using Actors.Torrent.Tracker;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;
using Xunit.Abstractions;
using static Actors.Torrent.Tracker.Udp.UdpTrackerProtocol;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// BEP 15 on loopback: a magnet link whose only tracker is our UDP tracker; and with real clients, aria2 announcing to our UDP tracker, and our peer
/// announcing to opentracker's UDP port. aria2 speaks UDP trackers only with its DHT on, so it
/// runs with a DHT that knows no node (no entry point, a fresh state file): it talks to nobody but
/// the tracker.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class UdpTrackerInteropTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _temp = new();
    private readonly RealPeers _real = new();
    private readonly ITestOutputHelper _output;

    public UdpTrackerInteropTests(ITestOutputHelper output)
        : base(TrackerActorTests.NodeConfig("""
            akka.io.tcp.maximum-frame-size = 64 KiB
            akka.io.tcp.send-buffer-size = 128 KiB
            akka.io.tcp.receive-buffer-size = 128 KiB
            """), output: output) => _output = output;

    protected override void Dispose(bool disposing)
    {
        _real.Dispose();
        _temp.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>aria2's flags with its DHT on (and so its UDP tracker client), isolated.</summary>
    private string[] Aria2WithUdpTrackers(int listenPort, string name) =>
    [
        .. RealPeers.Aria2Flags(listenPort).Where(f => !f.StartsWith("--enable-dht=", StringComparison.Ordinal)),
        "--enable-dht=true", $"--dht-listen-port={RealPeers.FreePort()}", $"--dht-file-path={_temp.Combine(name + "-dht.dat")}",
    ];

    private async Task<(IActorRef Node, int Port)> StartOurTracker()
    {
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => Cluster.Get(Sys).State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        var web = new Actors.Web.Server.WebServerSettings("127.0.0.1", 0, null, 100, new Actors.Web.Http.HttpLimits(),
            TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), 64 * 1024, false, false);
        var settings = TrackerActorTests.Settings() with { Interval = TimeSpan.FromSeconds(5), MinInterval = TimeSpan.FromSeconds(5) };
        var node = Sys.ActorOf(TrackerNode.Props(settings, web), "tracker-node");
        return (node, (await node.Ask<UdpListening>(GetUdpListening.Instance, Wait)).LocalAddress.Port);
    }

    private (TorrentMetainfo Torrent, byte[] Content) MakeTorrent(string name, int length, string tracker)
    {
        var (torrent, bytes, content) = SwarmFixture.MakeTorrent(_temp, name, length, 256 * 1024, [tracker]);
        File.WriteAllBytes(_temp.Combine("t.torrent"), bytes);
        return (torrent, content);
    }

    [FactRequiringTools(RealPeers.Aria2)]
    public async Task An_aria2_leecher_announces_to_our_tracker_over_udp_and_downloads_from_our_seeder()
    {
        var (node, port) = await StartOurTracker();
        var (torrent, content) = MakeTorrent("via-udp.bin", 16 * 1024 * 1024, $"udp://127.0.0.1:{port}/announce");
        // Our seeder finds the tracker by the same udp:// URL (the torrent lists nothing else).
        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        await SwarmFixture.Completion(seeder, TimeSpan.FromSeconds(20));
        await AwaitStats(node, s => s.Announces >= 1);

        var watch = Stopwatch.StartNew();
        var aria2 = _real.Start("aria2c", [.. Aria2WithUdpTrackers(RealPeers.FreePort(), "leecher"), "--seed-time=0",
            "-d", _temp.Combine("aria2-out"), _temp.Combine("t.torrent")]);
        Assert.True(await aria2.WaitForExitAsync(TimeSpan.FromSeconds(60)), "aria2 did not finish:\n" + _real.Log);
        _output.WriteLine($"ours → aria2 through our UDP tracker: {watch.Elapsed.TotalSeconds:F1} s incl. start-up");

        Assert.Equal(0, aria2.ExitCode);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("aria2-out", "via-udp.bin"))));
        // aria2 can only have found the seeder through our UDP tracker: connect and announce from it too.
        var stats = await node.Ask<UdpTrackerStats>(GetUdpStats.Instance, Wait);
        _output.WriteLine(stats.ToString());
        Assert.True(stats.Announces >= 2 && stats.Connects >= 2, stats.ToString());
        Assert.Equal(0, stats.Dropped);
    }

    [Fact]
    public async Task A_magnet_link_naming_only_a_udp_tracker_fetches_the_metadata_from_the_peers_it_names()
    {
        var (node, port) = await StartOurTracker();
        var (torrent, _) = MakeTorrent("magnet-udp.bin", 300 * 1024, $"udp://127.0.0.1:{port}/announce");
        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        await SwarmFixture.Completion(seeder, TimeSpan.FromSeconds(20));
        await AwaitStats(node, s => s.Announces >= 1);

        // No HTTP client at all: the seeder can only be found through the UDP tracker.
        var link = MagnetLink.Parse(MagnetLink.From(torrent).ToString());
        Assert.Equal([$"udp://127.0.0.1:{port}/announce"], link.Trackers);
        var fetcher = Sys.ActorOf(Actors.Torrent.Peer.Magnet.MetadataFetcher.Props(link,
            new Actors.Torrent.Peer.Magnet.MagnetSettings(TorrentSettings.NewPeerId()) { ListenPort = RealPeers.FreePort() }, ActorRefs.Nobody));
        var resolved = Assert.IsType<Actors.Torrent.Peer.Magnet.MetadataResolved>(
            await fetcher.Ask<object>(Actors.Torrent.Peer.Magnet.FetchMetadata.Instance, TimeSpan.FromSeconds(20)));
        Assert.Equal(torrent.RawInfo.ToArray(), resolved.Torrent.RawInfo.ToArray());
        await AwaitStats(node, s => s.Announces >= 2); // the fetcher's own announce
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task Our_leecher_announces_to_opentracker_over_udp_and_downloads_from_an_aria2_seeder()
    {
        var (probe, _, _) = SwarmFixture.MakeTorrent(_temp, "from-ot.bin", 8 * 1024 * 1024, 256 * 1024, ["http://placeholder/announce"]);
        // opentracker listens for UDP on its port too (-p P -P P).
        var httpUrl = _real.StartOpentracker(_temp, probe.InfoHashHex);
        var udpUrl = httpUrl.Replace("http://", "udp://", StringComparison.Ordinal);
        var (torrent, content) = MakeTorrent("from-ot.bin", 8 * 1024 * 1024, udpUrl);
        Assert.Equal(probe.InfoHashHex, torrent.InfoHashHex);

        var seederPort = RealPeers.FreePort();
        _real.Start("aria2c", [.. Aria2WithUdpTrackers(seederPort, "seeder"), "--seed-ratio=0.0", "--check-integrity=true",
            "--bt-seed-unverified=true", "-d", _temp.Combine("seed"), _temp.Combine("t.torrent")]);
        Ports.WaitForListenerSync(seederPort, TimeSpan.FromSeconds(10));
        await Task.Delay(1000); // let aria2 announce first

        var leecher = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("leech")) { Host = "127.0.0.1" }, "leecher");
        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(45));
        Assert.Equal(torrent.PieceCount, done.PiecesHave);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("leech", "from-ot.bin"))));
    }

    private async Task AwaitStats(IActorRef node, Func<UdpTrackerStats, bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var stats = await node.Ask<UdpTrackerStats>(GetUdpStats.Instance, Wait);
            if (condition(stats)) return;
            Assert.True(DateTime.UtcNow < deadline, $"the UDP tracker never got there: {stats}");
            await Task.Delay(100);
        }
    }
}
