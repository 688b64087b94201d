using Actors.Lab.Experiments;
using Actors.Lab.Processes;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>The teardown every scenario, sweep and experiment run ends with.</summary>
public sealed class ScenarioClusterTests
{
    private const long Held = 32L << 20;

    /// <summary>
    /// A run that has torn down leaves nothing running, not even a process still on its way out:
    /// the Ctrl-C test (<see cref="ShippedScenarioTests"/>) once found a killed node alive right
    /// after the run exited. A process holding tens of MiB takes a millisecond or more to end after
    /// SIGKILL (its memory is unmapped), so killing and returning at once leaves some of these four running.
    /// </summary>
    [FactRequiringTools("perl")]
    public void Dispose_returns_only_once_every_process_of_the_run_is_gone()
    {
        using var temp = new TempDirectory("scenario-cluster-");
        var cluster = new ScenarioCluster(temp.Path, ["perl"]);
        // Each pid with its start time: once a process is gone its pid may be another's (another
        // test's node), which neither the check nor the cleanup below may take for it.
        var started = new List<(int Pid, long Start)>();
        bool Alive((int Pid, long Start) p) => Posix.State(p.Pid, p.Start) != ProcessState.Gone;
        try
        {
            // Each fills a string of Held bytes (so its pages are touched) and sleeps.
            for (var i = 0; i < 4; i++)
            {
                var pid = cluster.StartLoad($"holder{i}", 0, ["-e", $"my $x = 'a' x {Held}; sleep 60"]);
                started.Add((pid, Posix.StartTime(pid)));
            }
            var pids = started.Select(p => p.Pid).ToList();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (pids.Any(pid => Posix.Usage(pid) is not { ResidentBytes: >= Held }) && DateTime.UtcNow < deadline) Thread.Sleep(50);
            Assert.All(pids, pid => Assert.True(Posix.Usage(pid) is { ResidentBytes: >= Held }, $"{pid} does not hold {Held} bytes"));

            cluster.Dispose();

            var left = started.Where(Alive).Select(p => p.Pid).ToList();
            Assert.True(left.Count == 0, "left running: " + string.Join(", ", left));
        }
        finally
        {
            foreach (var (pid, start) in started) Posix.Kill(pid, Posix.Signals["KILL"], start);
        }
    }
}
