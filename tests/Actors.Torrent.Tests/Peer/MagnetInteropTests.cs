using System.Diagnostics;
using System.Security.Cryptography;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Magnet;
using Actors.Web.Client;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Magnet links (BEP 9) and PEX (BEP 11) against aria2, through opentracker on loopback.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MagnetInteropTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly RealPeers _real = new();
    private readonly ActorSystem _system = ActorSystem.Create("magnet-interop", SwarmFixture.Config);

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _real.Dispose();
        _temp.Dispose();
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task Our_peer_downloads_by_magnet_link_with_the_metadata_from_an_aria2_seeder()
    {
        var (torrent, content, tracker) = PrepareWithTracker("from-aria2.bin", 8 * 1024 * 1024);
        _real.StartAria2Seeder(_temp.Combine("t.torrent"), _temp.Combine("seed"), RealPeers.FreePort());
        await Task.Delay(500); // let aria2 announce first

        // Only the tracker in the link: the peers, and then the metadata, come from the swarm.
        var link = MagnetLink.Parse(MagnetLink.From(torrent).ToString());
        Assert.Equal([tracker], link.Trackers);
        Assert.Empty(link.Peers);
        var watch = Stopwatch.StartNew();
        var http = _system.ActorOf(HttpClientActor.Props(), "http");
        var port = RealPeers.FreePort();
        var fetcher = _system.ActorOf(MetadataFetcher.Props(link, new MagnetSettings(TorrentSettings.NewPeerId()) { ListenPort = port }, http));
        var resolved = Assert.IsType<MetadataResolved>(await fetcher.Ask<object>(FetchMetadata.Instance, TimeSpan.FromSeconds(15)));
        output.WriteLine($"metadata from aria2 after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(torrent.RawInfo.ToArray(), resolved.Torrent.RawInfo.ToArray());

        var leecher = SwarmFixture.Start(_system, new TorrentSettings(resolved.Torrent, _temp.Combine("leech"))
        { Host = "127.0.0.1", Port = port, InitialPeers = resolved.Peers }, "leecher");
        await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(15));
        output.WriteLine($"complete after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("leech", "from-aria2.bin"))));
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task An_aria2_leecher_downloads_by_magnet_link_from_our_seeder()
    {
        var (torrent, content, _) = PrepareWithTracker("to-aria2.bin", 8 * 1024 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        await SwarmFixture.Completion(seeder, TimeSpan.FromSeconds(10)); // verified on disk, announcing
        await Task.Delay(500);

        var magnet = MagnetLink.From(torrent).ToString();
        var aria2 = _real.Start("aria2c", [.. RealPeers.Aria2Flags(RealPeers.FreePort()), "--seed-time=0", "-d", _temp.Combine("aria2-out"), magnet]);
        Assert.True(await aria2.WaitForExitAsync(TimeSpan.FromSeconds(20)), "aria2 did not finish:\n" + _real.Log);
        Assert.Equal(0, aria2.ExitCode);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("aria2-out", "to-aria2.bin"))));
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task Our_leecher_that_knows_only_aria2_learns_our_other_peer_by_PEX()
    {
        var (torrent, _, _) = PrepareWithTracker("pex.bin", 4 * 1024 * 1024);
        var aria2Port = RealPeers.FreePort();
        // aria2 with PEX on, uploading slowly so that the swarm is still busy while peers are exchanged.
        var flags = RealPeers.Aria2Flags(aria2Port).Where(f => !f.StartsWith("--enable-peer-exchange", StringComparison.Ordinal));
        _real.Start("aria2c", [.. flags, "--enable-peer-exchange=true", "--max-upload-limit=256K", "--seed-ratio=0.0",
            "--check-integrity=true", "--bt-seed-unverified=true", "-d", _temp.Combine("seed"), _temp.Combine("t.torrent")]);
        Ports.WaitForListenerSync(aria2Port, TimeSpan.FromSeconds(10));
        await Task.Delay(500);

        // aria2 never tells a peer about peers at its own address, so each of ours has its own loopback address.
        // Our first peer finds aria2 through the tracker and stays a leecher for a while (download capped).
        var first = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("first"))
        { Host = "127.0.0.2", MaxDownloadRate = 100_000 }, "first");
        var firstPort = await SwarmFixture.PortOf(first);
        for (var i = 0; i < 100 && (await SwarmFixture.ProgressOf(first)).Peers < 1; i++) await Task.Delay(100);
        await Task.Delay(1000); // aria2 has read our extended handshake (our listening port)

        // The late one knows aria2 alone and has no tracker.
        var late = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("late"))
        { Host = "127.0.0.3", UseTrackers = false, InitialPeers = [SwarmFixture.Loopback(aria2Port)] }, "late");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(12);
        TorrentProgress progress;
        do
        {
            await Task.Delay(200);
            progress = await SwarmFixture.ProgressOf(late);
        } while ((progress.PexLearned < 1 || progress.Peers < 2) && DateTime.UtcNow < deadline);
        output.WriteLine($"late leecher: {progress.PexLearned} learned by PEX, {progress.Peers} peers; our first peer listens on {firstPort}");
        Assert.True(progress.PexLearned >= 1, $"learned nothing by PEX from aria2\n{_real.Log}");
        Assert.True(progress.Peers >= 2, $"connected to {progress.Peers} peer(s) only");
    }

    private (TorrentMetainfo Torrent, byte[] Content, string Tracker) PrepareWithTracker(string name, int length)
    {
        var (probe, _, _) = SwarmFixture.MakeTorrent(_temp, name, length, 256 * 1024, ["http://placeholder/announce"]);
        var tracker = _real.StartOpentracker(_temp, probe.InfoHashHex);
        var bytes = TorrentCreator.Create(_temp.Combine("seed", name), new TorrentCreateOptions { PieceLength = 256 * 1024, Trackers = [tracker] });
        File.WriteAllBytes(_temp.Combine("t.torrent"), bytes);
        var torrent = TorrentMetainfo.Parse(bytes);
        Assert.Equal(probe.InfoHashHex, torrent.InfoHashHex);
        return (torrent, File.ReadAllBytes(_temp.Combine("seed", name)), tracker);
    }
}
