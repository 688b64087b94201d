using System.Diagnostics;
using System.Net;
using Actors.Benchmarks.Reporting;
using Actors.Net.Udp;
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

    /// <summary>One measured phase, for the table and the plot.</summary>
    private sealed record Phase(int N, string Name, int Lookups, double SuccessPercent, double HopsMedian, double HopsP90,
        double LatencyMedianMs, double LatencyP90Ms, double QueriesMedian, double JoinSeconds, double MemoryMb);
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(90);

    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("dht", TimeSpan.Zero, 1);
        var rows = new List<Phase>();
        foreach (var n in options.DhtNodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rows.AddRange(await RunOneAsync(n, cancellationToken));
        }
        Console.WriteLine();
        var table = new ResultTable("N", "phase", "lookups", "success", "hops med", "hops p90", "latency med ms", "latency p90 ms", "queries med", "join s", "MB");
        foreach (var r in rows)
        {
            table.Add(r.N.ToString("N0"), r.Name, r.Lookups.ToString(), $"{r.SuccessPercent:F0} %", r.HopsMedian.ToString("F0"), r.HopsP90.ToString("F0"),
                r.LatencyMedianMs.ToString("F0"), r.LatencyP90Ms.ToString("F0"), r.QueriesMedian.ToString("F0"), r.JoinSeconds.ToString("F0"), r.MemoryMb.ToString("F0"));
        }
        table.Print();
        var plot = Path.Combine(Directory.GetCurrentDirectory(), "dht-lookups.svg");
        File.WriteAllText(plot, Plot(rows));
        Console.WriteLine($"plot: {plot}");
        return true;
    }

    private async Task<List<Phase>> RunOneAsync(int n, CancellationToken cancellationToken)
    {
        var lookups = options.DhtLookups;
        Console.WriteLine($"-- N = {n}: starting nodes");
        using var system = ActorSystem.Create("dht-bench", ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.actor.default-dispatcher.throughput = 30
            """));
        DatagramMailbox.Ensure(system);
        var random = new Random(n);
        var settings = new DhtSettings
        {
            Host = IPAddress.Loopback,
            MaintenanceInterval = TimeSpan.FromSeconds(5),
            QueryTimeout = TimeSpan.FromSeconds(2),
            SlowQueryAfter = TimeSpan.FromMilliseconds(options.DhtSlowQueryMs),
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
        // Fresh searchers for each phase (a searcher's table learns the storers during its lookup),
        // and enough nodes left over for the 20% that vanish.
        var perPhase = Math.Min(lookups, (n - Announcers - n / 5) / 2);
        var searchers = order.Skip(Announcers).Take(perPhase).ToList();
        var churnSearchers = order.Skip(Announcers + perPhase).Take(perPhase).ToList();
        var hashes = announcers.Select(_ => NodeId.Random()).ToList();
        Console.WriteLine($"   announcing {Announcers} info-hashes");
        var announced = await Task.WhenAll(announcers.Select((a, i) =>
            a.Ref.Ask<AnnounceCompleted>(new AnnouncePeer(hashes[i], 10_000 + i), LookupTimeout)));
        Console.WriteLine($"   announces accepted by {Stats.Median(announced.Select(a => (double)a.AcceptedBy).ToList()):F0} nodes (median)");

        var rows = new List<Phase>();
        var memory = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024);
        rows.Add(await MeasureAsync(n, "steady", searchers, hashes, joinSeconds, memory, cancellationToken));

        // Churn: 20% of the nodes vanish at once (not the searchers); no re-announce, no waiting.
        var searcherIds = searchers.Concat(churnSearchers).Select(s => s.Id).ToHashSet();
        var victims = order.Where(x => !searcherIds.Contains(x.Id)).Take(n / 5).ToList();
        foreach (var victim in victims) system.Stop(victim.Ref);
        Console.WriteLine($"   stopped {victims.Count} nodes (20%)");
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        rows.Add(await MeasureAsync(n, "churn 20%", churnSearchers, hashes, joinSeconds, memory, cancellationToken));
        await system.Terminate();
        return rows;
    }

    private static async Task<Phase> MeasureAsync(int n, string phase, List<(IActorRef Ref, NodeId Id, IPEndPoint EndPoint)> searchers,
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
        return new Phase(n, phase, results.Count, success,
            Percentile(ok.Select(r => (double)r.Hops), 50), Percentile(ok.Select(r => (double)r.Hops), 90),
            Percentile(results.Select(r => r.Ms), 50), Percentile(results.Select(r => r.Ms), 90),
            Percentile(results.Select(r => (double)r.Queried), 50), joinSeconds, memoryMb);
    }

    private static double Percentile(IEnumerable<double> values, int p)
    {
        var sorted = values.OrderBy(v => v).ToList();
        if (sorted.Count == 0) return double.NaN;
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1)];
    }

    /// <summary>
    /// Two panels as SVG (no plotting package needed): median hops, and median / p90 lookup latency
    /// on a log scale, against N (log scale), steady and under churn.
    /// </summary>
    private static string Plot(IReadOnlyList<Phase> rows)
    {
        const int W = 330, H = 260, L = 50, T = 30, B = 60;
        var sizes = rows.Select(r => r.N).Distinct().Order().ToList();
        var svg = new System.Text.StringBuilder();
        svg.Append($"<svg xmlns='http://www.w3.org/2000/svg' width='{3 * W}' height='{H}' font-family='sans-serif' font-size='11'>");
        svg.Append($"<rect width='{3 * W}' height='{H}' fill='white'/>");
        double X(int n, int panel) => panel * W + L + (sizes.Count == 1 ? 0.5 : sizes.IndexOf(n) / (double)(sizes.Count - 1)) * (W - L - 40);
        void Panel(int panel, string title, Func<Phase, double> value, double max, bool log, string? dash, string label, double labelScale = 1)
        {
            double Y(double v) => log
                ? H - B - Math.Log10(Math.Max(1, v)) / Math.Log10(max) * (H - B - T)
                : H - B - v / max * (H - B - T);
            if (label.Length > 0)
            {
                svg.Append($"<text x='{panel * W + L}' y='18' font-weight='bold'>{title}</text>");
                svg.Append($"<line x1='{panel * W + L}' y1='{H - B}' x2='{panel * W + W - 30}' y2='{H - B}' stroke='black'/>");
                svg.Append($"<line x1='{panel * W + L}' y1='{T}' x2='{panel * W + L}' y2='{H - B}' stroke='black'/>");
                foreach (var n in sizes) svg.Append($"<text x='{X(n, panel):F0}' y='{H - B + 15}' text-anchor='middle'>N={n:N0}</text>");
                var ticks = log ? Enumerable.Range(0, (int)Math.Log10(max) + 1).Select(e => Math.Pow(10, e)) : Enumerable.Range(0, (int)max + 1).Select(v => (double)v);
                foreach (var t in ticks) svg.Append($"<text x='{panel * W + L - 5}' y='{Y(t) + 4:F0}' text-anchor='end'>{t * labelScale:0}</text>");
            }
            foreach (var (phase, color) in new[] { ("steady", "#1f77b4"), ("churn 20%", "#d62728") })
            {
                var points = rows.Where(r => r.Name == phase).OrderBy(r => r.N).Select(r => $"{X(r.N, panel):F0},{Y(value(r)):F0}");
                svg.Append($"<polyline fill='none' stroke='{color}' stroke-width='2' {(dash is null ? "" : $"stroke-dasharray='{dash}'")} points='{string.Join(' ', points)}'/>");
            }
        }
        Panel(0, "get_peers success, %", r => r.SuccessPercent / 10, 10, false, null, "x", labelScale: 10);
        Panel(1, "median hops to the peers", r => r.HopsMedian, 6, false, null, "x");
        Panel(2, "latency, ms (log): median —, p90 - -", r => r.LatencyMedianMs, 10_000, true, null, "x");
        Panel(2, "", r => r.LatencyP90Ms, 10_000, true, "5,4", "");
        svg.Append($"<text x='{L}' y='{H - 12}' fill='#1f77b4'>— steady</text><text x='{L + 80}' y='{H - 12}' fill='#d62728'>— right after 20% of the nodes vanish (no re-announce)</text>");
        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
