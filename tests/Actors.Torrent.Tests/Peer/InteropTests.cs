using System.Diagnostics;
using System.Security.Cryptography;
using Actors.Torrent.Peer;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Our peer against aria2, both directions, through opentracker on loopback.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PeerInteropTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly RealPeers _real = new();
    private readonly ActorSystem _system = ActorSystem.Create("interop", SwarmFixture.Config);

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _real.Dispose();
        _temp.Dispose();
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task Our_leecher_downloads_from_an_aria2_seeder_via_opentracker()
    {
        var (torrent, bytes, content, tracker) = PrepareWithTracker("from-aria2.bin", 64 * 1024 * 1024);
        _real.StartAria2Seeder(_temp.Combine("t.torrent"), _temp.Combine("seed"), RealPeers.FreePort());
        await Task.Delay(500); // let aria2 announce first

        var watch = Stopwatch.StartNew();
        var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("leech")) { Host = "127.0.0.1" }, "leecher");
        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(45));
        watch.Stop();
        output.WriteLine($"aria2 → ours: {content.Length / 1e6 / watch.Elapsed.TotalSeconds:F1} MB/s ({watch.Elapsed.TotalSeconds:F1} s incl. announce)");
        Assert.Equal(torrent.PieceCount, done.PiecesHave);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("leech", "from-aria2.bin"))));
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task An_aria2_leecher_downloads_from_our_seeder_via_opentracker()
    {
        var (torrent, _, content, _) = PrepareWithTracker("to-aria2.bin", 32 * 1024 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        await SwarmFixture.Completion(seeder, TimeSpan.FromSeconds(20)); // verified on disk, announced
        await Task.Delay(500);

        var watch = Stopwatch.StartNew();
        var aria2 = _real.StartAria2Leecher(_temp.Combine("t.torrent"), _temp.Combine("aria2-out"), RealPeers.FreePort());
        Assert.True(await aria2.WaitForExitAsync(TimeSpan.FromSeconds(45)), "aria2 did not finish:\n" + _real.Log);
        watch.Stop();
        output.WriteLine($"ours → aria2: {content.Length / 1e6 / watch.Elapsed.TotalSeconds:F1} MB/s ({watch.Elapsed.TotalSeconds:F1} s incl. start-up)");
        Assert.Equal(0, aria2.ExitCode);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("aria2-out", "to-aria2.bin"))));
        var progress = await SwarmFixture.ProgressOf(seeder);
        Assert.True(progress.Uploaded >= content.Length, $"uploaded {progress.Uploaded}");
    }

    [FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]
    public async Task An_aria2_leecher_downloads_from_our_super_seed_via_opentracker()
    {
        // BEP 16 needs nothing of the leecher but BEP 3: aria2 is shown two pieces, then one more per piece it announces.
        var (torrent, _, content, _) = PrepareWithTracker("super-to-aria2.bin", 8 * 1024 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1", SuperSeed = true }, "seeder");
        await SwarmFixture.Completion(seeder, TimeSpan.FromSeconds(20));
        await Task.Delay(500);

        var aria2 = _real.StartAria2Leecher(_temp.Combine("t.torrent"), _temp.Combine("aria2-out"), RealPeers.FreePort());
        Assert.True(await aria2.WaitForExitAsync(TimeSpan.FromSeconds(45)), "aria2 did not finish:\n" + _real.Log);
        Assert.Equal(0, aria2.ExitCode);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(_temp.Combine("aria2-out", "super-to-aria2.bin"))));
        var progress = await SwarmFixture.ProgressOf(seeder);
        output.WriteLine($"the super-seed uploaded {progress.Uploaded} bytes for {content.Length}");
        Assert.True(progress.Uploaded >= content.Length, $"uploaded {progress.Uploaded}");
    }

    private (Actors.Torrent.Metainfo.TorrentMetainfo, byte[], byte[], string) PrepareWithTracker(string name, int length)
    {
        var (probe, _, _) = SwarmFixture.MakeTorrent(_temp, name, length, 256 * 1024, ["http://placeholder/announce"]);
        // The tracker URL is inside the info-hash-free part, so the hash is known before the tracker starts.
        var tracker = _real.StartOpentracker(_temp, probe.InfoHashHex);
        var bytes = Actors.Torrent.Metainfo.TorrentCreator.Create(_temp.Combine("seed", name),
            new Actors.Torrent.Metainfo.TorrentCreateOptions { PieceLength = 256 * 1024, Trackers = [tracker] });
        File.WriteAllBytes(_temp.Combine("t.torrent"), bytes);
        var torrent = Actors.Torrent.Metainfo.TorrentMetainfo.Parse(bytes);
        Assert.Equal(probe.InfoHashHex, torrent.InfoHashHex);
        return (torrent, bytes, File.ReadAllBytes(_temp.Combine("seed", name)), tracker);
    }
}

internal static class ProcessExtensions
{
    public static async Task<bool> WaitForExitAsync(this Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
