using Actors.Torrent.Peer;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

public sealed class SwarmTests(Xunit.Abstractions.ITestOutputHelper output) : SwarmTest("swarm")
{
    [Fact]
    public async Task Our_leecher_downloads_from_our_seeder()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "one.bin", 3_000_000 + 123);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        var port = await SwarmFixture.PortOf(seeder);
        var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("leech"))
        {
            Host = "127.0.0.1",
            InitialPeers = [SwarmFixture.Loopback(port)],
        }, "leecher");
        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(30));
        Assert.Equal(torrent.PieceCount, done.PiecesHave);
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "one.bin")));
    }

    [Fact]
    public async Task A_leecher_dropped_by_its_only_peer_dials_it_again_and_completes_without_a_tracker()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "dropped.bin", 2_000_000, pieceLength: 16 * 1024);
        var budget = new Actors.Torrent.Peer.Connections.ConnectionBudget(
            new Actors.Torrent.Peer.Connections.ConnectionLimits { RedialAfter = TimeSpan.FromSeconds(1) });
        // Capped so that the transfer is still under way when the seeder drops the leecher.
        var seeder = _system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, _temp.Combine("seed"))
            { Host = "127.0.0.1", MaxUploadRate = 500_000 }, budget: budget), "seeder");
        var port = await SwarmFixture.PortOf(seeder);
        var leecher = _system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, _temp.Combine("leech"))
            { Host = "127.0.0.1", InitialPeers = [SwarmFixture.Loopback(port)] }, budget: budget), "leecher");

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await SwarmFixture.ProgressOf(leecher)).Downloaded == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the leecher never received a byte");
            await Task.Delay(50);
        }
        // The seeder's side of every connection (children of its listener) hangs up, as a peer short of sockets does.
        _system.ActorSelection(seeder.Path / "*" / "*").Tell(new Disconnect("test: dropping the leecher"));
        var dropped = DateTime.UtcNow.AddSeconds(10);
        TorrentProgress progress;
        while ((progress = await SwarmFixture.ProgressOf(leecher)) is { Peers: > 0, Complete: false })
        {
            Assert.True(DateTime.UtcNow < dropped, "the seeder's hang-up never reached the leecher");
            await Task.Delay(20);
        }
        Assert.False(progress.Complete, "the download finished before the hang-up: the test proves nothing");

        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(30));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "dropped.bin")));
        output.WriteLine($"completed after the drop; {done.Downloaded} bytes downloaded");
    }

    [Fact]
    public async Task Ten_capped_leechers_finish_with_correct_files_and_get_most_bytes_from_each_other()
    {
        const long cap = 1_000_000;
        const int leecherCount = 10;
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "swarm.bin", 2_000_000, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", MaxUploadRate = cap }, "seeder");
        var known = new List<System.Net.IPEndPoint> { SwarmFixture.Loopback(await SwarmFixture.PortOf(seeder)) };
        var leechers = new List<IActorRef>();
        for (var i = 0; i < leecherCount; i++)
        {
            var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine($"leech{i}"))
            { Host = "127.0.0.1", MaxUploadRate = cap, InitialPeers = known.ToArray() }, $"leecher{i}");
            known.Add(SwarmFixture.Loopback(await SwarmFixture.PortOf(leecher)));
            leechers.Add(leecher);
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var results = await Task.WhenAll(leechers.Select(l => SwarmFixture.Completion(l, TimeSpan.FromSeconds(40))));
        output.WriteLine($"{leecherCount} leechers done in {watch.Elapsed.TotalSeconds:F1} s; lower bound " +
            $"{(double)leecherCount * content.Length / (cap * (leecherCount + 1)):F1} s");
        for (var i = 0; i < leechers.Count; i++)
            Assert.Equal(content, File.ReadAllBytes(_temp.Combine($"leech{i}", "swarm.bin")));
        var fromPeers = results.Sum(r => r.DownloadedFromPeers);
        var fromSeeds = results.Sum(r => r.DownloadedFromSeeds);
        output.WriteLine($"from the seeder {fromSeeds} bytes, from other leechers {fromPeers} bytes");
        // The seeder's cap alone would need 10 × 2 MB / 1 MB/s = 20 s: the leechers must have fed each other.
        Assert.True(fromPeers > fromSeeds, $"only {fromPeers} bytes came from non-seeders, {fromSeeds} from the seeder");
        Assert.True(results.Count(r => r.Uploaded > 0) >= leecherCount / 2, "fewer than half the leechers uploaded anything");
    }

    [Fact]
    public async Task Peer_that_sends_corrupt_pieces_is_banned_and_the_download_completes()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "bad.bin", 1_000_000);
        using var liar = new CorruptSeeder(torrent);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", MaxUploadRate = 500_000 }, "seeder");
        var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("leech"))
        {
            Host = "127.0.0.1",
            InitialPeers = [SwarmFixture.Loopback(liar.Port), SwarmFixture.Loopback(await SwarmFixture.PortOf(seeder))],
        }, "leecher");
        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(30));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "bad.bin")));
        Assert.Equal(1, done.Banned);
        Assert.Equal(1, liar.Connections);
    }

    [Fact]
    public async Task Download_stopped_midway_resumes_from_what_is_on_disk()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "resume.bin", 2_000_000);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", MaxUploadRate = 1_000_000 }, "seeder");
        var seederAt = SwarmFixture.Loopback(await SwarmFixture.PortOf(seeder));
        TorrentSettings Leech() => new(torrent, _temp.Combine("leech")) { Host = "127.0.0.1", InitialPeers = [seederAt] };

        var first = SwarmFixture.Start(_system, Leech(), "first");
        await AwaitPieces(first, torrent.PieceCount / 3);
        await first.GracefulStop(TimeSpan.FromSeconds(5));

        var second = SwarmFixture.Start(_system, Leech(), "second");
        var done = await SwarmFixture.Completion(second, TimeSpan.FromSeconds(30));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "resume.bin")));
        Assert.True(done.Downloaded < content.Length * 3 / 4, $"downloaded {done.Downloaded} of {content.Length} again");
    }

    private static async Task AwaitPieces(IActorRef torrent, int pieces)
    {
        for (var i = 0; i < 300; i++)
        {
            if ((await SwarmFixture.ProgressOf(torrent)).PiecesHave >= pieces) return;
            await Task.Delay(20);
        }
        throw new TimeoutException("no progress");
    }
}
