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

            var load = Load with { Duration = options.Duration, LuaScript = script };
            Console.WriteLine($"announces/s: wrk -t{load.Threads} -c{load.Connections} -d{options.Duration.TotalSeconds:0}s -s announce.lua ({SwarmCount} swarms, random peers, numwant=50)");
            await Targets.AlternateAsync(runs, options.Rounds, "wrk", async (run, round) =>
            {
                var result = await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/"), load, cancellationToken);
                run.AddSample(AnnounceRate, result.RequestsPerSecond);
                // Every announce closes its connection; a server that closes without saying so
                // costs wrk one read error per announce (plus one per connection at the end).
                if (result.HasErrorsBeyond(toleratedReadErrors: result.Requests + load.Connections))
                {
                    run.Flag($"wrk round {round + 1}: {result.DescribeErrors()}");
                }
                Console.WriteLine($"  round {round + 1} {run.Name,-12} {result.RequestsPerSecond,12:N0} announces/s  ({result.Requests:N0} answered)  avg latency {result.LatencyAverageMs:0.00} ms  {result.DescribeErrors()}");
            }, cancellationToken);

            PrintSummary(runs);
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
    /// connections split over both, results summed: WrkRunner.RunAcrossAsync), and opentracker.
    /// Targets named "ours..." are divided by every other one.
    /// </summary>
    private static List<TargetRun> BuildTargets(ActorsServer actors, string openTrackerChroot) =>
    [
        new("ours", ct => actors.StartTrackerAsync(ct)),
        new(OursTwoNodes, ct => actors.StartTrackerPairAsync(ct)),
        new("opentracker", ct => OpenTrackerServer.StartAsync(openTrackerChroot, ct)),
    ];

    private const string OursTwoNodes = "ours x2";

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
        var table = new ResultTable("tracker", "announces/s (median)", "status");
        foreach (var run in runs)
        {
            var status = !run.IsAvailable ? "not available" : run.Problems.Count > 0 ? "FLAGGED" : "ok";
            table.Add(run.Name, ResultTable.Number(run.Median(AnnounceRate)), status);
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
        var twoNodes = runs.First(r => r.Name == OursTwoNodes);
        Console.WriteLine($"{twoNodes.Name}/{oneNode.Name}: announces/s {ResultTable.Ratio(Stats.Ratio(twoNodes.Median(AnnounceRate), oneNode.Median(AnnounceRate)))}");
        Console.WriteLine();
        Targets.PrintUnavailableAndProblems(runs);
    }
}
