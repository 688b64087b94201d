using System.Text;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// What a node costs doing nothing: `actors web`, `actors tracker` and `actors peer seed` (a
/// 1 MiB torrent announced to that tracker) started side by side with no traffic, and Kestrel and
/// nginx idle for reference. After a warm-up (start-up, JIT tiering, cluster formation), each round
/// reads every process's CPU seconds from /proc over a window of at least 30 s; the result is the
/// share of one core. The Lab runs many such nodes per machine, so this is multiplied.
/// </summary>
public sealed class IdleScenario(BenchOptions options)
{
    private const string IdleCpu = "% of a core";
    // Past start-up, JIT and cluster formation, and past tiered compilation: a handler run once a
    // second by a cluster or lab timer reaches the call count that recompiles it (30) only after
    // ~30 s, and that recompiling was most of what a 20–50 s window measured (perf, 2026-11-28).
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(90);

    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        var window = TimeSpan.FromSeconds(Math.Max(30, options.Duration.TotalSeconds));
        Machine.PrintHeader("idle", window, options.Rounds);
        using var temp = TempDirectory.Create("actors-bench-idle-");
        var root = temp.CreateSubdirectory("www");
        TempDirectory.WriteText(Path.Combine(root, "index.html"), "<!doctype html><p>idle</p>\n");
        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancellationToken);

        RunningServer? tracker = null;
        List<TargetRun> runs =
        [
            new("web", ct => actors.StartWebAsync(root, ct)),
            new("tracker", async ct => tracker = await actors.StartTrackerAsync(ct)),
            new("peer seed", ct => StartSeederAsync(actors, temp, tracker, ct)),
            new("kestrel", ct => KestrelServer.StartAsync(root, ct)),
            new("nginx", ct => NginxServer.StartAsync(temp, root, ct)),
        ];
        try
        {
            await Targets.StartAllAsync(runs, cancellationToken);
            Console.WriteLine($"warming up {WarmUp.TotalSeconds:0} s, then {options.Rounds} window(s) of {window.TotalSeconds:0} s with no traffic");
            await Task.Delay(WarmUp, cancellationToken);
            for (var round = 0; round < options.Rounds; round++)
            {
                var available = runs.Where(r => r.IsAvailable).ToList();
                var before = available.ToDictionary(r => r, r => r.Server!.CpuSeconds());
                await Task.Delay(window, cancellationToken);
                foreach (var run in available)
                {
                    if (run.Server!.HasExitedProcess)
                    {
                        run.MarkUnavailable("process exited while idle");
                        continue;
                    }
                    var share = (run.Server.CpuSeconds() - before[run]) / window.TotalSeconds * 100;
                    run.AddSample(IdleCpu, share);
                    Console.WriteLine($"  round {round + 1} {run.Name,-10} {share,6:F2} % of a core");
                }
            }

            Console.WriteLine();
            var table = new ResultTable("node (idle)", "% of a core (median)", "status");
            foreach (var run in runs)
            {
                table.Add(run.Name, ResultTable.Number(run.Median(IdleCpu), "F2"), run.IsAvailable ? "ok" : "not available");
            }
            table.Print();
            Console.WriteLine();
            Targets.PrintUnavailableAndProblems(runs);
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

    /// <summary>`actors peer seed` of a small torrent that announces to the tracker node started before it.</summary>
    private static async Task<RunningServer> StartSeederAsync(ActorsServer actors, TempDirectory temp, RunningServer? tracker, CancellationToken cancellationToken)
    {
        if (actors.ActorsDll is null || tracker is null)
        {
            throw new ServerUnavailableException("needs actors.dll and the tracker node");
        }
        var data = temp.CreateSubdirectory("seed");
        var file = Path.Combine(data, "data.bin");
        await File.WriteAllBytesAsync(file, Encoding.ASCII.GetBytes(new string('x', 1 << 20)), cancellationToken);
        var torrent = Path.Combine(temp.Path, "data.torrent");
        var create = await CommandRunner.RunAsync("dotnet",
            [actors.ActorsDll, "torrent", "create", file, "--tracker", tracker.BaseUrls[0] + "/announce", "-o", torrent],
            TimeSpan.FromMinutes(2), cancellationToken, Path.GetDirectoryName(actors.ActorsDll));
        if (!create.Succeeded)
        {
            throw new ServerUnavailableException($"actors torrent create failed: {create.Describe()}");
        }
        return await actors.StartPeerSeedAsync(torrent, data, cancellationToken);
    }
}
