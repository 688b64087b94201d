using Actors.Torrent.Peer;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

public sealed class SwarmTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ActorSystem _system = ActorSystem.Create("swarm", SwarmFixture.Config);

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _temp.Dispose();
    }

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
}
