using System.Diagnostics;
using System.Net;
using Actors.Benchmarks.Reporting;
using Actors.Torrent.Dht;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// The DHT experiment: for each N, N <see cref="DhtNode"/> actors (each with its own UDP socket on
/// loopback) in one actor system join through earlier nodes; 20 nodes announce an info-hash each;
/// then get_peers lookups from random other nodes measure success (the announcer is found), hops
/// and latency. Then 20% of the nodes (never the searchers) are stopped at once, without warning,
/// and the same lookups run again against the stale tables: churn.
/// </summary>
public sealed class DhtScenario(BenchOptions options)
{
    private const int Announcers = 20;
    private const int Parallel = 8;
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(90);

    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("dht", TimeSpan.Zero, 1);
        var rows = new List<string[]>();
        foreach (var n in options.DhtNodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rows.AddRange(await RunOneAsync(n, cancellationToken));
        }
        Console.WriteLine();
        var table = new ResultTable("N", "phase", "lookups", "success", "hops med", "hops p90", "latency med ms", "latency p90 ms", "queries med", "join s", "MB");
        foreach (var row in rows) table.Add(row);
        table.Print();
        return true;
    }

    private async Task<List<string[]>> RunOneAsync(int n, CancellationToken cancellationToken)
    {
        var lookups = options.DhtLookups;
        Console.WriteLine($"-- N = {n}: starting nodes");
        using var system = ActorSystem.Create("dht-bench", ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.actor.default-dispatcher.throughput = 30
            """));
        var random = new Random(n);
        var settings = new DhtSettings
        {
            Host = IPAddress.Loopback,
            MaintenanceInterval = TimeSpan.FromSeconds(5),
            QueryTimeout = TimeSpan.FromSeconds(2),
            LookupDeadline = TimeSpan.FromSeconds(60),
            RatePerSource = 200,
        };
        var joinClock = Stopwatch.StartNew();
        var nodes = new List<(IActorRef Ref, NodeId Id, IPEndPoint EndPoint)>();
        // In batches of 100, each node joining through the first node and a random earlier one. A
        // node answers GetDhtStatus once its socket is bound (it stashes until then).
        while (nodes.Count < n)
        {
            var batch = nodes.Count == 0 ? 1 : Math.Min(100, n - nodes.Count);
            var refs = Enumerable.Range(0, batch).Select(_ =>
            {
                var bootstrap = nodes.Count == 0 ? [] : new[] { nodes[0].EndPoint, nodes[random.Next(nodes.Count)].EndPoint }.Distinct().ToArray();
                return system.ActorOf(DhtNode.Props(settings with { Bootstrap = bootstrap }));
            }).ToList();
            var statuses = await Task.WhenAll(refs.Select(r => r.Ask<DhtStatus>(GetDhtStatus.Instance, TimeSpan.FromSeconds(60))));
            nodes.AddRange(refs.Zip(statuses, (r, st) => (r, st.Id, st.EndPoint!)));
        }
        Console.WriteLine($"   {n} nodes bound in {joinClock.Elapsed.TotalSeconds:F0} s");

        // Joined: let the tables fill until the median size stops growing (bounded).
        var joinDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(30 + n / 20);
        var previous = -1.0;
        while (DateTime.UtcNow < joinDeadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
            var sizes = await Task.WhenAll(nodes.Select(x => x.Ref.Ask<DhtStatus>(GetDhtStatus.Instance, TimeSpan.FromSeconds(60))));
            var median = Stats.Median(sizes.Select(s => (double)s.TableSize).ToList());
            Console.WriteLine($"   {joinClock.Elapsed.TotalSeconds:F0} s: table size median {median:F0}, min {sizes.Min(s => s.TableSize)}");
            if (median <= previous && sizes.Min(s => s.TableSize) > 0) break;
            previous = median;
        }
        var joinSeconds = joinClock.Elapsed.TotalSeconds;

        var order = nodes.OrderBy(_ => random.Next()).ToList();
        var announcers = order.Take(Announcers).ToList();
        var searchers = order.Skip(Announcers).Take(lookups).ToList();
        var hashes = announcers.Select(_ => NodeId.Random()).ToList();
        Console.WriteLine($"   announcing {Announcers} info-hashes");
        var announced = await Task.WhenAll(announcers.Select((a, i) =>
            a.Ref.Ask<AnnounceCompleted>(new AnnouncePeer(hashes[i], 10_000 + i), LookupTimeout)));
        Console.WriteLine($"   announces accepted by {Stats.Median(announced.Select(a => (double)a.AcceptedBy).ToList()):F0} nodes (median)");

        var rows = new List<string[]>();
        var memory = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024);
        rows.Add(await MeasureAsync(n, "steady", searchers, hashes, joinSeconds, memory, cancellationToken));

        // Churn: 20% of the nodes vanish at once (not the searchers); no re-announce, no waiting.
        var searcherIds = searchers.Select(s => s.Id).ToHashSet();
        var victims = order.Where(x => !searcherIds.Contains(x.Id)).Take(n / 5).ToList();
        foreach (var victim in victims) system.Stop(victim.Ref);
        Console.WriteLine($"   stopped {victims.Count} nodes (20%)");
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        rows.Add(await MeasureAsync(n, "churn 20%", searchers, hashes, joinSeconds, memory, cancellationToken));
        await system.Terminate();
        return rows;
    }

    private static async Task<string[]> MeasureAsync(int n, string phase, List<(IActorRef Ref, NodeId Id, IPEndPoint EndPoint)> searchers,
        List<NodeId> hashes, double joinSeconds, double memoryMb, CancellationToken cancellationToken)
    {
        var results = new List<(bool Found, int Hops, double Ms, int Queried)>();
        using var gate = new SemaphoreSlim(Parallel);
        var tasks = searchers.Select(async (searcher, i) =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var target = hashes[i % hashes.Count];
                var port = 10_000 + i % hashes.Count;
                var result = await searcher.Ref.Ask<LookupCompleted>(new GetPeers(target), LookupTimeout);
                var found = result.Peers.Any(p => p.Port == port);
                lock (results) results.Add((found, result.Hops, result.Elapsed.TotalMilliseconds, result.Queried));
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        var ok = results.Where(r => r.Found).ToList();
        var success = 100.0 * ok.Count / Math.Max(1, results.Count);
        Console.WriteLine($"   {phase}: {ok.Count}/{results.Count} found");
        return
        [
            n.ToString("N0"), phase, results.Count.ToString(), $"{success:F0} %",
            Percentile(ok.Select(r => (double)r.Hops), 50).ToString("F0"), Percentile(ok.Select(r => (double)r.Hops), 90).ToString("F0"),
            Percentile(results.Select(r => r.Ms), 50).ToString("F0"), Percentile(results.Select(r => r.Ms), 90).ToString("F0"),
            Percentile(results.Select(r => (double)r.Queried), 50).ToString("F0"),
            joinSeconds.ToString("F0"), memoryMb.ToString("F0"),
        ];
    }

    private static double Percentile(IEnumerable<double> values, int p)
    {
        var sorted = values.OrderBy(v => v).ToList();
        if (sorted.Count == 0) return double.NaN;
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
    }
}
