using Actors.Net.Scheduling;
using Actors.Torrent.Peer;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// Torrents and their connections tick on the process's <see cref="TickWheel"/> (here a manual
/// one, turned by the test), rates are computed only while data moves, and progress is pushed
/// to subscribers instead of being polled.
/// </summary>
public sealed class SharedTicksTests() : SwarmTest("ticks")
{
    [Fact]
    public async Task A_seeder_and_a_leecher_tick_on_one_wheel_and_stop_their_stats_ticks_once_idle()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "ticks.bin", 1_000_000);
        var wheel = _system.ActorOf(TickWheel.ManualProps(TorrentActor.TickSlot), "ticks");
        var seeder = _system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, ticks: wheel), "seeder");
        var port = await SwarmFixture.PortOf(seeder);
        var progress = Inbox.Create(_system);
        var leecher = _system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, _temp.Combine("leech"))
            { Host = "127.0.0.1", InitialPeers = [SwarmFixture.Loopback(port)] }, ticks: wheel), "leecher");
        leecher.Tell(new TorrentActor.SubscribeProgress(progress.Receiver, 7));

        // The leecher tells its progress at once (once it listens), then as it changes, up to complete.
        var first = Assert.IsType<TorrentActor.ProgressChanged>(progress.Receive(TimeSpan.FromSeconds(10)));
        Assert.Equal(7, first.Tag);
        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(30));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "ticks.bin")));
        var last = first;
        for (var i = 0; i < 1000 && !last.Progress.Complete; i++)
            last = Assert.IsType<TorrentActor.ProgressChanged>(progress.Receive(TimeSpan.FromSeconds(10)));
        Assert.True(last.Progress.Complete, "no pushed progress said complete");
        Assert.Equal(done.PiecesHave, last.Progress.PiecesHave);

        // Both seeding: the connection closes ("both seeding") and the wheel forgets both ends; the
        // rates decay tick by tick to zero, then each torrent keeps only its choke, connect and PEX
        // ticks, and its storage its file check. Bounded in turns and time; each turn is answered, so nothing here sleeps.
        TickWheel.WheelStats stats = new(-1, -1, false, 0);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        for (var turn = 0; turn < 20_000 && DateTime.UtcNow < deadline; turn++)
        {
            await wheel.Ask<TickWheel.Advanced>(TickWheel.Advance.Instance, TimeSpan.FromSeconds(5));
            if (turn % 10 != 0) continue;
            stats = await wheel.Ask<TickWheel.WheelStats>(TickWheel.GetStats.Instance, TimeSpan.FromSeconds(5));
            if (stats is { Ticks: 8, Subscribers: 4 }) break;
        }
        Assert.Equal(new TickWheel.WheelStats(8, 4, false, 0), stats); // a manual wheel never turns itself
        Assert.Equal(0, (await SwarmFixture.ProgressOf(leecher)).DownloadRate);
    }
}
