using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Connections;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Akka.Event;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Many torrents in one actor system sharing one small <see cref="ConnectionBudget"/>, as <c>actors peer --count N</c> runs them.</summary>
public sealed class BudgetSwarmTests(Xunit.Abstractions.ITestOutputHelper output) : SwarmTest("budget")
{
    /// <summary>Counts the warnings logged while it runs.</summary>
    private sealed class WarningCounter : ReceiveActor
    {
        public static int Count;
        public WarningCounter() => Receive<Warning>(_ => Interlocked.Increment(ref Count));
    }

    [Fact]
    public async Task Eight_leechers_that_know_everyone_complete_within_a_budget_far_below_a_full_mesh()
    {
        const int leecherCount = 8;
        // A full mesh of 9 torrents in one process would hold 72 sockets; the budget allows 12.
        var budget = new ConnectionBudget(new ConnectionLimits
        {
            MaxConnections = 12, MinPeersPerTorrent = 2, UselessAfter = TimeSpan.FromSeconds(1),
        }, descriptorLimit: 1_000_000, descriptorsInUse: 0);
        var counter = _system.ActorOf(Props.Create(() => new WarningCounter()));
        _system.EventStream.Subscribe(counter, typeof(Warning));

        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "tight.bin", 600_000, pieceLength: 16 * 1024);
        var seeder = _system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, budget: budget), "seeder");
        var ports = new List<int> { await SwarmFixture.PortOf(seeder) };
        var leechers = new List<IActorRef>();
        for (var i = 0; i < leecherCount; i++)
        {
            var leecher = _system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, _temp.Combine($"leech{i}"))
            { Host = "127.0.0.1" }, budget: budget), $"leecher{i}");
            ports.Add(await SwarmFixture.PortOf(leecher));
            leechers.Add(leecher);
        }
        // Everyone learns every address at once, as from a tracker: without the budget each would dial all.
        foreach (var (leecher, i) in leechers.Select((l, i) => (l, i)))
            leecher.Tell(new Actors.Torrent.Peer.Announce.Announcer.PeersDiscovered(
                ports.Where((_, j) => j != i + 1).Select(SwarmFixture.Loopback).ToArray()));

        var peak = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, budget.Open + budget.HalfOpen);
                await Task.Delay(10);
            }
        });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // ~4 s alone; the bound is for a loaded machine (test projects run in parallel).
        await Task.WhenAll(leechers.Select(l => SwarmFixture.Completion(l, TimeSpan.FromSeconds(90))));
        sampling.Cancel();
        await sampler;

        var stats = budget.Stats();
        output.WriteLine($"done in {watch.Elapsed.TotalSeconds:F1} s; peak {peak} sockets of {stats.Capacity}; {stats}; warnings {WarningCounter.Count}");
        for (var i = 0; i < leecherCount; i++)
            Assert.Equal(content, File.ReadAllBytes(_temp.Combine($"leech{i}", "tight.bin")));
        Assert.True(peak <= stats.Capacity, $"peak {peak} sockets above the capacity {stats.Capacity}");
        Assert.True(stats.DialsDenied + stats.InboundRefused > 0, "the budget never had to say no: the test proves nothing");
        // Refusals are counted, not logged one by one.
        Assert.True(WarningCounter.Count < 20, $"{WarningCounter.Count} warnings for {stats.InboundRefused} refusals");
    }
}
