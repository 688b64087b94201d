using System.Net;
using Actors.Benchmarks.Load;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;
using Actors.Benchmarks.Tracker;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// UDP announces per second (BEP 15) from our own load generator (<see cref="UdpAnnounceLoad"/>),
/// against our tracker and opentracker, each on the UDP port that shares its HTTP port's number;
/// and, in the same run, our tracker's HTTP announces from wrk as the `tracker` scenario measures
/// them (a fresh connection per announce), so the UDP edge is compared with both.
/// </summary>
public sealed class UdpTrackerScenario(BenchOptions options, Tools tools)
{
    private const int SwarmCount = 100;
    private const string AnnounceRate = "announces/s";
    private const string CpuPerAnnounce = "server CPU µs/announce";
    private const string OursUdp = "ours (udp)", OpentrackerUdp = "opentracker (udp)", OursHttp = "ours (http)";
    private static readonly WrkLoad HttpLoad = new(Threads: 2, Connections: 64, Duration: TimeSpan.Zero);

    /// <summary>Returns true when every tracker ran and measured cleanly.</summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("udp-tracker", options.Duration, options.Rounds);
        using var temp = TempDirectory.Create("actors-bench-udp-tracker-");
        var infoHashes = InfoHashSet.Create(SwarmCount);
        var chroot = temp.CreateSubdirectory("opentracker");
        TempDirectory.WriteText(Path.Combine(chroot, OpenTrackerServer.WhitelistFileName), infoHashes.ToWhitelist());
        var script = Path.Combine(temp.Path, "announce.lua");
        AnnounceScript.Write(script, infoHashes);
        var udpLoad = new UdpAnnounceLoad(infoHashes.Hashes);

        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancellationToken);
        List<TargetRun> runs =
        [
            new(OursUdp, ct => actors.StartTrackerAsync(ct)),
            new(OpentrackerUdp, ct => OpenTrackerServer.StartAsync(chroot, ct)),
            new(OursHttp, ct => actors.StartTrackerAsync(ct)),
        ];
        try
        {
            await Targets.StartAllAsync(runs, cancellationToken);
            // Warm up (JIT, first swarms) and check that UDP announces are answered at all.
            foreach (var run in runs.Where(r => r.IsAvailable))
            {
                try
                {
                    var warmUp = TimeSpan.FromSeconds(Math.Min(3, options.Duration.TotalSeconds));
                    if (run.Name == OursHttp)
                    {
                        await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/"), HttpLoad with { Duration = warmUp, LuaScript = script }, cancellationToken);
                        continue;
                    }
                    var result = await udpLoad.RunAsync(UdpEndPoint(run), warmUp, cancellationToken);
                    if (result.Answered == 0) run.MarkUnavailable($"no UDP announce answered in the warm-up ({result.DescribeErrors()})");
                    else Console.WriteLine($"{run.Name}: warm-up {result.AnnouncesPerSecond:N0} announces/s ({result.DescribeErrors()})");
                }
                catch (InvalidOperationException e)
                {
                    run.MarkUnavailable($"warm-up failed: {e.Message}");
                }
            }

            Console.WriteLine($"announces/s: UDP {udpLoad.Sockets} sockets x {udpLoad.Window} in flight; HTTP wrk -t{HttpLoad.Threads} -c{HttpLoad.Connections}"
                + $" (Connection: close); {options.Duration.TotalSeconds:0} s each, {SwarmCount} swarms, random peers, numwant=50");
            await Targets.AlternateAsync(runs, options.Rounds, "load", async (run, round) =>
            {
                var cpuBefore = run.Server!.CpuSeconds();
                double rate;
                long answered;
                string errors;
                if (run.Name == OursHttp)
                {
                    var result = await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/"), HttpLoad with { Duration = options.Duration, LuaScript = script }, cancellationToken);
                    (rate, answered, errors) = (result.RequestsPerSecond, result.Requests, result.DescribeErrors());
                    if (result.HasErrorsBeyond(toleratedReadErrors: result.Requests + HttpLoad.Connections)) run.Flag($"wrk round {round + 1}: {errors}");
                }
                else
                {
                    var result = await udpLoad.RunAsync(UdpEndPoint(run), options.Duration, cancellationToken);
                    (rate, answered, errors) = (result.AnnouncesPerSecond, result.Answered, result.DescribeErrors());
                    if (result.Errors > 0) run.Flag($"round {round + 1}: {errors}");
                }
                var cpu = answered > 0 ? (run.Server!.CpuSeconds() - cpuBefore) * 1e6 / answered : (double?)null;
                run.AddSample(AnnounceRate, rate);
                if (cpu is { } c) run.AddSample(CpuPerAnnounce, c);
                Console.WriteLine($"  round {round + 1} {run.Name,-18} {rate,12:N0} announces/s  ({answered:N0} answered)  {errors}  server CPU {ResultTable.Number(cpu)} µs/announce");
            }, cancellationToken);

            PrintSummary(runs);
            return Targets.AllClean(runs);
        }
        finally
        {
            foreach (var run in runs) run.Dispose();
        }
    }

    /// <summary>Both trackers listen for UDP on their HTTP port's number.</summary>
    private static IPEndPoint UdpEndPoint(TargetRun run) => new(IPAddress.Loopback, new Uri(run.Server!.BaseUrls[0]).Port);

    private static void PrintSummary(IReadOnlyList<TargetRun> runs)
    {
        Console.WriteLine();
        var table = new ResultTable("tracker", "announces/s (median)", "server CPU µs/announce", "status");
        foreach (var run in runs)
        {
            var status = !run.IsAvailable ? "not available" : run.Problems.Count > 0 ? "FLAGGED" : "ok";
            table.Add(run.Name, ResultTable.Number(run.Median(AnnounceRate)), ResultTable.Number(run.Median(CpuPerAnnounce)), status);
        }
        table.Print();
        Console.WriteLine();
        double? Median(string name) => runs.First(r => r.Name == name).Median(AnnounceRate);
        Console.WriteLine($"{OursUdp}/{OpentrackerUdp}: announces/s {ResultTable.Ratio(Stats.Ratio(Median(OursUdp), Median(OpentrackerUdp)))} (goal ≥ 0.5)");
        Console.WriteLine($"{OursUdp}/{OursHttp}: announces/s {ResultTable.Ratio(Stats.Ratio(Median(OursUdp), Median(OursHttp)))} (goal ≥ 1)");
        Console.WriteLine();
        Targets.PrintUnavailableAndProblems(runs);
    }
}
