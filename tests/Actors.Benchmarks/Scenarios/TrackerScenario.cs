using Actors.Benchmarks.Load;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;
using Actors.Benchmarks.Tracker;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// HTTP announces per second (BEP 3, compact answers per BEP 23) from wrk with a Lua script,
/// against our tracker (one node, and two clustered nodes sharing the load) and opentracker in
/// the same run.
/// </summary>
public sealed class TrackerScenario(BenchOptions options, Tools tools)
{
    private const int SwarmCount = 100;
    private const string AnnounceRate = "announces/s";
    private static readonly WrkLoad Load = new(Threads: 2, Connections: 64, Duration: TimeSpan.Zero);

    /// <summary>Returns true when every tracker ran and measured cleanly.</summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("tracker", options.Duration, options.Rounds);
        using var temp = TempDirectory.Create("actors-bench-tracker-");
        var infoHashes = InfoHashSet.Create(SwarmCount);

        // opentracker chroots here; it holds only the whitelist.
        var chroot = temp.CreateSubdirectory("opentracker");
        TempDirectory.WriteText(Path.Combine(chroot, OpenTrackerServer.WhitelistFileName), infoHashes.ToWhitelist());
        var script = Path.Combine(temp.Path, "announce.lua");
        AnnounceScript.Write(script, infoHashes);

        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancellationToken);
        var runs = BuildTargets(actors, chroot);
        try
        {
            await Targets.StartAllAsync(runs, cancellationToken);
            foreach (var run in runs.Where(r => r.IsAvailable))
            {
                await VerifyAsync(run, infoHashes, cancellationToken);
            }

            var warmUp = Load with { Duration = TimeSpan.FromSeconds(Math.Min(3, options.Duration.TotalSeconds)), LuaScript = script };
            foreach (var run in runs.Where(r => r.IsAvailable))
            {
                try
                {
                    await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/"), warmUp, cancellationToken);
                }
                catch (InvalidOperationException e)
                {
                    run.MarkUnavailable($"warm-up failed: {e.Message}");
                }
            }

            foreach (var run in runs.Where(r => r.IsAvailable))
            {
                _baseline[run.Name] = run.Server!.ProcessIds.Select(pid => TrackerProbe.ResidentBytes(pid) ?? 0).ToList();
            }
            if (options.FillPeers > 0)
            {
                var fillScript = Path.Combine(temp.Path, "fill.lua");
                AnnounceScript.Write(fillScript, infoHashes, keepAlive: true);
                foreach (var run in runs.Where(r => r.IsAvailable))
                {
                    await FillAsync(run, fillScript, infoHashes, cancellationToken);
                }
            }

            var load = Load with { Duration = options.Duration, LuaScript = script };
            Console.WriteLine($"announces/s: wrk -t{load.Threads} -c{load.Connections} -d{options.Duration.TotalSeconds:0}s -s announce.lua ({SwarmCount} swarms, random peers, numwant=50)");
            await Targets.AlternateAsync(runs, options.Rounds, "wrk", async (run, round) =>
            {
                var cpuBefore = run.Server!.ProcessIds.Select(TrackerProbe.CpuTime).ToList();
                var result = await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/"), load, cancellationToken);
                var cpuAfter = run.Server!.ProcessIds.Select(TrackerProbe.CpuTime).ToList();
                double? cpuPerAnnounce = cpuBefore.Concat(cpuAfter).All(c => c is not null) && result.Requests > 0
                    ? cpuAfter.Zip(cpuBefore, (a, b) => (a!.Value - b!.Value).TotalMicroseconds).Sum() / result.Requests
                    : null;
                if (cpuPerAnnounce is { } cpu) run.AddSample(CpuPerAnnounce, cpu);
                run.AddSample(AnnounceRate, result.RequestsPerSecond);
                // Every announce closes its connection; a server that closes without saying so
                // costs wrk one read error per announce (plus one per connection at the end).
                if (result.HasErrorsBeyond(toleratedReadErrors: result.Requests + load.Connections))
                {
                    run.Flag($"wrk round {round + 1}: {result.DescribeErrors()}");
                }
                Console.WriteLine($"  round {round + 1} {run.Name,-12} {result.RequestsPerSecond,12:N0} announces/s  ({result.Requests:N0} answered)  avg latency {result.LatencyAverageMs:0.00} ms  {result.DescribeErrors()}  server CPU {ResultTable.Number(cpuPerAnnounce)} µs/announce");
                await ProbeAsync(run, infoHashes, cancellationToken);
            }, cancellationToken);

            PrintSummary(runs);
            await MeasureVisibilityAsync(runs.First(r => r.Name == OursTwoNodes), script, synchronous: true, cancellationToken);
            await MeasureVisibilityAsync(runs.First(r => r.Name == OursTwoNodesAsync), script, synchronous: false, cancellationToken);
            await MeasureFailoverAsync(runs.First(r => r.Name == OursTwoNodes), lossExpected: false, cancellationToken);
            await MeasureFailoverAsync(runs.First(r => r.Name == OursTwoNodesAsync), lossExpected: true, cancellationToken);
            return Targets.AllClean(runs);
        }
        finally
        {
            foreach (var run in runs)
            {
                run.Dispose();
            }
        }
    }

    /// <summary>
    /// The trackers compared: ours on one node, ours on two clustered nodes (wrk's threads and
    /// connections split over both, results summed: WrkRunner.RunAcrossAsync) with the default
    /// synchronous replication and with `--replication async` (the trade: no wait for the other
    /// holder's acknowledgement, against the answers of the last moments before a kill -9), and
    /// opentracker. Targets named "ours..." are divided by every other one.
    /// </summary>
    private static List<TargetRun> BuildTargets(ActorsServer actors, string openTrackerChroot) =>
    [
        new("ours", ct => actors.StartTrackerAsync(ct)),
        new(OursTwoNodes, ct => actors.StartTrackerPairAsync(ct)),
        new(OursTwoNodesAsync, ct => actors.StartTrackerPairAsync(ct, ["--replication", "async"])),
        new(OursTwoLoneNodes, actors.StartTwoLoneTrackersAsync),
        new("opentracker", ct => OpenTrackerServer.StartAsync(openTrackerChroot, ct)),
    ];

    private const string OursTwoNodes = "ours x2";
    private const string OursTwoNodesAsync = "ours x2 async";
    /// <summary>Two unclustered nodes on the machine: what co-location costs, with no replication.</summary>
    private const string OursTwoLoneNodes = "ours 2 lone";
    private const string Peers = "peers";
    private const string Resident = "RSS bytes";
    private const string BytesPerPeer = "bytes/peer";
    private const string CpuPerAnnounce = "server CPU µs/announce";

    /// <summary>Resident bytes of each target's processes after start and verification, before any load.</summary>
    private readonly Dictionary<string, List<long>> _baseline = [];

    /// <summary>
    /// kill -9 of the first node of "ours x2" (holding the swarms of the rounds) under announce
    /// load; every announce answered is then looked up on the survivor. A loss flags the run unless
    /// <paramref name="lossExpected"/> (asynchronous replication: the loss is the figure measured).
    /// </summary>
    private static async Task MeasureFailoverAsync(TargetRun pair, bool lossExpected, CancellationToken cancellationToken)
    {
        if (!pair.IsAvailable) return;
        Console.WriteLine($"kill -9 of one node of {pair.Name} under load (32 clients, an own swarm per announce, 3 s before and 12 s after the kill):");
        try
        {
            var result = await FailoverProbe.RunAsync(pair.Server!, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(12), cancellationToken);
            Console.WriteLine($"  answered {result.Answered:N0} announces ({result.AnsweredBeforeKill:N0} before the kill), not answered {result.Failed:N0};"
                + $" lost after the kill: {result.Lost:N0}; longest answer to an announce sent after the kill: {result.LongestAnswerAfterKill.TotalSeconds:0.0} s");
            if (result.Lost > 0 && !lossExpected) pair.Flag($"kill -9 lost {result.Lost} answered announces");
        }
        catch (HttpRequestException e)
        {
            pair.Flag($"failover check failed: {e.Message}");
            Console.WriteLine($"  failed: {e.Message}");
        }
        Console.WriteLine();
    }

    /// <summary>
    /// How soon the other node of <paramref name="pair"/> sees an announce one node answered
    /// (VisibilityProbe), idle and then under the rounds' load. With synchronous replication it must
    /// see every one at the first look (the answer waits for its copy): a miss flags the run.
    /// </summary>
    private async Task MeasureVisibilityAsync(TargetRun pair, string script, bool synchronous, CancellationToken cancellationToken)
    {
        if (!pair.IsAvailable) return;
        Console.WriteLine($"an announce answered by one node of {pair.Name}, seen by the other (a swarm of its own per probe; scrape on the other node every 1 ms from the answer):");
        try
        {
            var idle = await VisibilityProbe.RunAsync(pair.Server!, TimeSpan.FromSeconds(3), workers: 1, cancellationToken);
            Console.WriteLine($"  idle: {idle}");
            var load = Load with { Duration = TimeSpan.FromSeconds(8), LuaScript = script };
            var wrk = tools.Wrk.RunAcrossAsync(pair.Server!.UrlsFor("/"), load, cancellationToken);
            VisibilityProbe.Result loaded;
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                loaded = await VisibilityProbe.RunAsync(pair.Server!, TimeSpan.FromSeconds(6), workers: 4, cancellationToken);
            }
            finally
            {
                // A failed probe still waits for wrk (8 s at most): the next measurement starts on a quiet machine.
                await Task.WhenAny(wrk);
            }
            var result = await wrk;
            Console.WriteLine($"  under wrk -t{load.Threads} -c{load.Connections} ({result.RequestsPerSecond:N0} announces/s): {loaded}");
            foreach (var (when, probe) in new[] { ("idle", idle), ("under load", loaded) })
            {
                if (synchronous && probe.SeenAtFirstLook < probe.Probes)
                    pair.Flag($"{when}: {probe.Probes - probe.SeenAtFirstLook} answered announces not yet on the other holder (synchronous replication)");
            }
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException)
        {
            pair.Flag($"visibility probe failed: {e.Message}");
            Console.WriteLine($"  failed: {e.Message}");
        }
        Console.WriteLine();
    }

    /// <summary>Fills a tracker to --fill peers with keep-alive announces (cheaper per announce than the measured load), bounded in time.</summary>
    private async Task FillAsync(TargetRun run, string fillScript, InfoHashSet infoHashes, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        var fill = Load with { Duration = TimeSpan.FromSeconds(10), LuaScript = fillScript };
        long peers = 0;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/"), fill, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                run.Flag($"fill: {e.Message}");
                return;
            }
            peers = await CountPeersAsync(run, infoHashes, cancellationToken) ?? 0;
            Console.WriteLine($"  fill {run.Name,-12} {peers,12:N0} peers");
            if (peers >= options.FillPeers) return;
        }
        Console.WriteLine($"  fill {run.Name}: stopped at {peers:N0} peers after 5 minutes");
    }

    /// <summary>After a round: peers held (scrape) and resident memory per node, and memory per peer since start.</summary>
    private async Task ProbeAsync(TargetRun run, InfoHashSet infoHashes, CancellationToken cancellationToken)
    {
        var peers = await CountPeersAsync(run, infoHashes, cancellationToken);
        var resident = run.Server!.ProcessIds.Select(TrackerProbe.ResidentBytes).ToList();
        if (peers is not { } count || resident.Any(r => r is null))
        {
            Console.WriteLine($"           {run.Name,-12} peers or memory not readable");
            return;
        }
        var baseline = _baseline.GetValueOrDefault(run.Name) ?? [];
        var grown = resident.Select((r, i) => r!.Value - (i < baseline.Count ? baseline[i] : 0)).ToList();
        var perPeer = count > 0 ? (double)grown.Max() / count : double.NaN;
        run.AddSample(Peers, count);
        run.AddSample(Resident, resident.Max(r => r!.Value));
        run.AddSample(BytesPerPeer, perPeer);
        var nodes = string.Join(" + ", resident.Select(r => $"{r!.Value / 1e6:N0}"));
        Console.WriteLine($"           {run.Name,-12} {count,12:N0} peers  RSS {nodes} MB  {perPeer:N0} B/peer (largest node's growth since start / peers)");
    }

    /// <summary>
    /// Peers the target holds: a clustered pair holds every peer on each node, so one node's scrape
    /// counts them all; two lone nodes hold what each was sent, so theirs are added.
    /// </summary>
    private static async Task<long?> CountPeersAsync(TargetRun run, InfoHashSet infoHashes, CancellationToken cancellationToken)
    {
        if (run.Name != OursTwoLoneNodes) return await TrackerProbe.CountPeersAsync(run.Server!.BaseUrls[0], infoHashes, cancellationToken);
        long total = 0;
        foreach (var url in run.Server!.BaseUrls)
        {
            if (await TrackerProbe.CountPeersAsync(url, infoHashes, cancellationToken) is not { } count) return null;
            total += count;
        }
        return total;
    }

    private static double? Last(TargetRun run, string metric) =>
        run.Samples.TryGetValue(metric, out var values) && values.Count > 0 ? values[^1] : null;

    private static bool IsOurs(TargetRun run) => run.Name.StartsWith("ours", StringComparison.Ordinal);

    /// <summary>
    /// One announce with curl before loading: the answer must be a bencoded dictionary and not a
    /// refusal. opentracker refuses unlisted hashes with HTTP 200 and a "failure reason", which
    /// wrk would happily count as successes.
    /// </summary>
    private async Task VerifyAsync(TargetRun run, InfoHashSet infoHashes, CancellationToken cancellationToken)
    {
        var path = AnnounceScript.AnnouncePath(InfoHashSet.PercentEncode(infoHashes.Hashes[0]), "-BM0001-verify000000", 6881);
        try
        {
            var (status, body) = await tools.Curl.GetAsync(run.Server!.BaseUrls[0] + path, cancellationToken);
            if (status != 200 || !body.StartsWith('d') || body.Contains("failure reason", StringComparison.Ordinal))
            {
                var shown = body.Length > 120 ? body[..120] + "..." : body;
                run.MarkUnavailable($"announce answered HTTP {status} '{shown}', not a bencoded peer list");
            }
            else
            {
                Console.WriteLine($"{run.Name}: single announce answered HTTP 200 with a bencoded dictionary");
            }
        }
        catch (InvalidOperationException e)
        {
            run.MarkUnavailable($"announce failed: {e.Message}");
        }
    }

    private static void PrintSummary(IReadOnlyList<TargetRun> runs)
    {
        Console.WriteLine();
        var table = new ResultTable("tracker", "announces/s (median)", "first round", "last round", "last/first", "peers at end",
            "RSS MB (largest node)", "bytes/peer", "CPU µs/announce", "status");
        foreach (var run in runs)
        {
            var status = !run.IsAvailable ? "not available" : run.Problems.Count > 0 ? "FLAGGED" : "ok";
            var rates = run.Samples.GetValueOrDefault(AnnounceRate) ?? [];
            double? first = rates.Count > 0 ? rates[0] : null, last = rates.Count > 0 ? rates[^1] : null;
            table.Add(run.Name, ResultTable.Number(run.Median(AnnounceRate)), ResultTable.Number(first), ResultTable.Number(last),
                first is { } f && last is { } l ? ResultTable.Ratio(l / f) : "n/a",
                ResultTable.Number(Last(run, Peers)), ResultTable.Number(Last(run, Resident) / 1e6), ResultTable.Number(Last(run, BytesPerPeer)),
                ResultTable.Number(run.Median(CpuPerAnnounce)), status);
        }
        table.Print();
        Console.WriteLine();

        foreach (var ours in runs.Where(IsOurs))
        {
            foreach (var reference in runs.Where(r => !IsOurs(r)))
            {
                var ratio = Stats.Ratio(ours.Median(AnnounceRate), reference.Median(AnnounceRate));
                Console.WriteLine($"{ours.Name}/{reference.Name}: announces/s {ResultTable.Ratio(ratio)}");
            }
        }
        var oneNode = runs.First(r => r.Name == "ours");
        foreach (var twoNodes in runs.Where(r => r.Name is OursTwoNodes or OursTwoNodesAsync))
            Console.WriteLine($"{twoNodes.Name}/{oneNode.Name}: announces/s {ResultTable.Ratio(Stats.Ratio(twoNodes.Median(AnnounceRate), oneNode.Median(AnnounceRate)))}"
                + $", RSS of the largest node {ResultTable.Ratio(Stats.Ratio(Last(twoNodes, Resident), Last(oneNode, Resident)))}");
        // Two nodes on one machine pay for sharing it (two runtimes on the same cores) as well as for
        // clustering. Against two lone nodes on the same machine only the clustering is left: the
        // share of a lone node's rate that each node keeps once nodes have machines of their own.
        var twoLone = runs.First(r => r.Name == OursTwoLoneNodes);
        Console.WriteLine($"{twoLone.Name}/{oneNode.Name}: announces/s {ResultTable.Ratio(Stats.Ratio(twoLone.Median(AnnounceRate), oneNode.Median(AnnounceRate)))} (what co-location costs)");
        foreach (var twoNodes in runs.Where(r => r.Name is OursTwoNodes or OursTwoNodesAsync))
            Console.WriteLine($"{twoNodes.Name}/{twoLone.Name}: announces/s {ResultTable.Ratio(Stats.Ratio(twoNodes.Median(AnnounceRate), twoLone.Median(AnnounceRate)))}, "
                + $"CPU per announce {ResultTable.Ratio(Stats.Ratio(twoLone.Median(CpuPerAnnounce), twoNodes.Median(CpuPerAnnounce)))} (what clustering costs, co-location aside)");
        Console.WriteLine();
        Targets.PrintUnavailableAndProblems(runs);
    }
}
