using System.Diagnostics;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// A seeder that arrives after its swarm filled every slot with peers that have nothing (the Lab's
/// swarms start their leechers first): the leechers must still let it in, whichever side learns of
/// the other. Each leecher here may hold 2 peers and holds 2 empty ones before the seeder starts.
/// </summary>
public sealed class LateSeederTests() : SwarmTest("late")
{
    [Fact]
    public async Task A_full_leecher_lets_in_a_seeder_that_dials_it_and_drops_an_empty_peer_for_it()
    {
        var (leecher, seeder, empties, leecherPort, _, content) = await FullLeecherAndLateSeeder();
        var emptyIds = new List<string>();
        foreach (var empty in empties) emptyIds.Add((await ExchangesOf(empty)).PeerId);
        var seederId = (await ExchangesOf(seeder)).PeerId;
        seeder.Tell(new Announcer.PeersDiscovered([SwarmFixture.Loopback(leecherPort)]));

        // While the leecher downloads (the seeder's upload is capped: about a second), it holds
        // the seeder and one empty peer: the other left to make room. Watched during the download,
        // since a shed connection takes a moment to close, and once the leecher seeds, the empty
        // peers come for its pieces.
        var seen = new List<string>();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30) && !(await SwarmFixture.ProgressOf(leecher)).Complete)
        {
            var connected = (await ExchangesOf(leecher)).Exchanges.Where(e => e.Connected).Select(e => e.PeerId).ToList();
            var state = $"seeder {(connected.Contains(seederId) ? "in" : "out")}, {connected.Count(emptyIds.Contains)} empty";
            if (seen.Count == 0 || seen[^1] != state) seen.Add(state);
            await Task.Delay(20);
        }
        await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(30));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "late.bin")));
        Assert.True(seen.Contains("seeder in, 1 empty"), "the leecher's peers while it downloaded: " + string.Join(" → ", seen));
    }

    private static Task<TorrentExchanges> ExchangesOf(IActorRef torrent) =>
        torrent.Ask<TorrentExchanges>(TorrentActor.GetExchanges.Instance, TimeSpan.FromSeconds(5));

    [Fact]
    public async Task A_full_starving_leecher_dials_a_new_address_when_the_tracker_counts_a_seeder()
    {
        var (leecher, _, _, _, seederPort, content) = await FullLeecherAndLateSeeder();
        leecher.Tell(new Announcer.PeersDiscovered([SwarmFixture.Loopback(seederPort)]) { Seeders = 1 });

        // Well before an empty peer is judged useless and shed (useless-after, 20 s), which is when
        // a leecher that waits for a free slot would first dial the seeder (~1 s here).
        await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(12));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "late.bin")));
    }

    private async Task<(IActorRef Leecher, IActorRef Seeder, IReadOnlyList<IActorRef> Empties, int LeecherPort, int SeederPort, byte[] Content)> FullLeecherAndLateSeeder()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "late.bin", 200_000, pieceLength: 16 * 1024);
        TorrentSettings Settings(string directory) => new(torrent, _temp.Combine(directory)) { Host = "127.0.0.1", MaxPeers = 2 };
        var empties = Enumerable.Range(0, 2).Select(i => _system.ActorOf(TorrentActor.Props(Settings($"empty{i}")), $"empty{i}")).ToList();
        var leecher = _system.ActorOf(TorrentActor.Props(Settings("leech")), "leecher");
        var emptyPorts = new List<int>();
        foreach (var empty in empties) emptyPorts.Add(await SwarmFixture.PortOf(empty));
        var leecherPort = await SwarmFixture.PortOf(leecher);
        leecher.Tell(new Announcer.PeersDiscovered(emptyPorts.Select(SwarmFixture.Loopback).ToArray()));
        for (var i = 0; i < 200 && (await SwarmFixture.ProgressOf(leecher)).Peers < 2; i++) await Task.Delay(50);
        Assert.Equal(2, (await SwarmFixture.ProgressOf(leecher)).Peers);

        var seeder = _system.ActorOf(TorrentActor.Props(Settings("seed") with { MaxUploadRate = 200_000 }), "seeder");
        var seederPort = await SwarmFixture.PortOf(seeder);
        Assert.True((await SwarmFixture.ProgressOf(seeder)).Complete);
        return (leecher, seeder, empties, leecherPort, seederPort, content);
    }
}
