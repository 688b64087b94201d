using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// <c>actors peer</c> as real processes in a swarm tracked by our own <c>actors web --tracker</c>
/// node, with aria2 on both sides: the "done when", crashes and <c>--count</c>.
/// </summary>
public sealed class PeerProcessTests : IDisposable
{
    private readonly PeerLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [FactRequiringTools(PeerLab.Aria2)]
    public async Task Peer_get_by_url_downloads_from_aria2_and_our_seeder_through_our_tracker_and_seeds_on_to_aria2()
    {
        await _lab.Start(4 * 1024 * 1024 + 1234);
        var aria2Seeder = _lab.Aria2Seeder("--max-upload-limit=2M");
        var ourSeeder = await _lab.OurSeeder("our-seed", "--max-up", "2M");
        await _lab.AwaitSeeders(2);

        // The "done when": get by URL from a mixed swarm, exit 0, identical file.
        using var get = _lab.Actors("peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("get"), "--host", "127.0.0.1");
        // A second one keeps seeding once it has the file.
        using var getAndSeed = _lab.Actors("peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("get-seed"), "--host", "127.0.0.1", "--seed");
        Assert.Equal(0, await get.WaitForExit(PeerLab.Timeout));
        _lab.AssertSameContent(Path.Combine(_lab.Dir("get"), PeerLab.FileName));
        await getAndSeed.WaitForLine(l => l.Contains("complete and verified"), PeerLab.Timeout);
        _lab.AssertSameContent(Path.Combine(_lab.Dir("get-seed"), PeerLab.FileName));

        // Both original seeders gone: aria2 can only get the file from the peer that downloaded it.
        aria2Seeder.Kill();
        ourSeeder.Signal("KILL");
        var aria2 = _lab.Aria2Leecher(_lab.Dir("aria2-out"));
        using var cts = new CancellationTokenSource(PeerLab.Timeout);
        await aria2.WaitForExitAsync(cts.Token);
        Assert.Equal(0, aria2.ExitCode);
        _lab.AssertSameContent(Path.Combine(_lab.Dir("aria2-out"), PeerLab.FileName));
    }

    [Fact]
    public async Task Peer_get_by_magnet_link_fetches_the_metadata_from_our_seeder_through_our_tracker()
    {
        await _lab.Start(2 * 1024 * 1024 + 77);
        using var magnet = _lab.Actors("torrent", "magnet", _lab.TorrentFile);
        Assert.Equal(0, await magnet.WaitForExit(PeerLab.Timeout));
        var link = Assert.Single(magnet.Lines);
        Assert.StartsWith("magnet:?xt=urn:btih:", link);
        Assert.Contains("&tr=http%3A%2F%2F127.0.0.1%3A", link);
        await _lab.OurSeeder("our-seed");
        await _lab.AwaitSeeders(1);

        using var get = _lab.Actors("peer", "get", link, "--out", _lab.Dir("get"), "--host", "127.0.0.1", "--save-metadata");
        Assert.Equal(0, await get.WaitForExit(PeerLab.Timeout));
        _lab.AssertSameContent(Path.Combine(_lab.Dir("get"), PeerLab.FileName));
        Assert.Contains(get.Lines, l => l.Contains("metadata verified"));
        var saved = Assert.Single(Directory.GetFiles(_lab.Dir("get"), "*.torrent"));
        Assert.Equal(Actors.Torrent.Metainfo.TorrentMetainfo.Load(_lab.TorrentFile).InfoHashHex,
            Actors.Torrent.Metainfo.TorrentMetainfo.Load(saved).InfoHashHex);

        using var bad = _lab.Actors("peer", "get", "magnet:?xt=urn:btih:1234", "--out", _lab.Dir("bad"));
        Assert.Equal(2, await bad.WaitForExit(PeerLab.Timeout));
    }

    [FactRequiringTools(PeerLab.Aria2)]
    public async Task Peer_get_by_url_downloads_from_an_aria2_seeder_alone_through_our_tracker()
    {
        await _lab.Start(3 * 1024 * 1024 + 5);
        _lab.Aria2Seeder();
        await _lab.AwaitSeeders(1);

        using var get = _lab.Actors("peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("get"), "--host", "127.0.0.1");
        Assert.Equal(0, await get.WaitForExit(PeerLab.Timeout));
        _lab.AssertSameContent(Path.Combine(_lab.Dir("get"), PeerLab.FileName));
        Assert.Contains(get.Lines, l => l.Contains($"from seeders {_lab.Content.Length},"));
    }

    [FactRequiringTools(PeerLab.Aria2)]
    public async Task Download_completes_from_the_others_when_a_seeder_is_killed_mid_transfer()
    {
        await _lab.Start(6 * 1024 * 1024);
        var victim = await _lab.OurSeeder("victim", "--max-up", "1M");
        _lab.Aria2Seeder("--max-upload-limit=1M");
        await _lab.AwaitSeeders(2);

        using var get = _lab.Actors("peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("get"), "--host", "127.0.0.1");
        await get.WaitForLine(l => PeerLab.PiecesIn(l) >= 20, PeerLab.Timeout);
        victim.Signal("KILL");
        Assert.Equal(0, await get.WaitForExit(PeerLab.Timeout));
        _lab.AssertSameContent(Path.Combine(_lab.Dir("get"), PeerLab.FileName));
    }

    [Fact]
    public async Task Peer_get_killed_with_sigkill_resumes_from_verified_pieces_on_disk()
    {
        await _lab.Start(8 * 1024 * 1024);
        await _lab.OurSeeder("our-seed", "--max-up", "1M");
        await _lab.AwaitSeeders(1);

        var first = _lab.Actors("peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("get"), "--host", "127.0.0.1");
        var progress = await first.WaitForLine(l => PeerLab.PiecesIn(l) >= 64, PeerLab.Timeout);
        first.Signal("KILL");
        await first.WaitForExit(PeerLab.Timeout);

        using var second = _lab.Actors("peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("get"), "--host", "127.0.0.1");
        Assert.Equal(0, await second.WaitForExit(PeerLab.Timeout));
        _lab.AssertSameContent(Path.Combine(_lab.Dir("get"), PeerLab.FileName));
        var summary = second.Lines.Single(l => l.Contains("complete and verified"));
        var downloaded = PeerLab.DownloadedBytes(summary);
        Assert.True(downloaded <= _lab.Content.Length - 64 * 32 * 1024,
            $"the restart downloaded {downloaded} of {_lab.Content.Length} bytes after '{progress}' was on disk:\n{summary}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Count_runs_independent_peers_with_distinct_ports_and_ids_in_one_process(bool asManyPeers)
    {
        await _lab.Start(2 * 1024 * 1024);
        await _lab.OurSeeder("our-seed");
        await _lab.AwaitSeeders(1);

        // asManyPeers: the settings of a process of many peers (4 KiB Akka.IO frames, every actor on
        // the compact mailbox) for three, so that a test can afford the whole download with them.
        string[] config = [];
        if (asManyPeers)
        {
            var file = Path.Combine(_lab.Dir("conf"), "many-peers.conf");
            File.WriteAllText(file, "actors.peer.many-peers = 2");
            config = ["--config", file];
        }
        using var get = _lab.Actors(["peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("many"), "--host", "127.0.0.1", "--count", "3", .. config]);
        Assert.Equal(0, await get.WaitForExit(PeerLab.Timeout));
        Assert.Equal(asManyPeers, get.StderrLines.Any(l => l.Contains("3 peers in one process: 4 KiB Akka.IO frames and compact mailboxes")));
        var peers = get.Lines.Where(l => l.StartsWith("peer ") && l.Contains("listening on port")).ToArray();
        Assert.Equal(3, peers.Length);
        Assert.Equal(3, peers.Select(l => l.Split(' ')[5].TrimEnd(',')).Distinct().Count());
        Assert.Equal(3, peers.Select(l => l.Split(' ')[^1]).Distinct().Count());
        for (var i = 0; i < 3; i++)
            _lab.AssertSameContent(Path.Combine(_lab.Dir("many"), $"peer-{i}", PeerLab.FileName));
    }
}
