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
    /// SIGKILL (its memory is unmapped), so killing and returning at once leaves these two running.
    /// </summary>
    [FactRequiringTools("perl")]
    public void Dispose_returns_only_once_every_process_of_the_run_is_gone()
    {
        using var temp = new TempDirectory("scenario-cluster-");
        var cluster = new ScenarioCluster(temp.Path, ["perl"]);
        var pids = new List<int>();
        try
        {
            // Each fills a string of Held bytes (so its pages are touched) and sleeps.
            for (var i = 0; i < 2; i++) pids.Add(cluster.StartLoad($"holder{i}", 0, ["-e", $"my $x = 'a' x {Held}; sleep 60"]));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (pids.Any(pid => Posix.Usage(pid) is not { ResidentBytes: >= Held }) && DateTime.UtcNow < deadline) Thread.Sleep(50);
            Assert.All(pids, pid => Assert.True(Posix.Usage(pid) is { ResidentBytes: >= Held }, $"{pid} does not hold {Held} bytes"));

            cluster.Dispose();

            var left = pids.Where(pid => Posix.State(pid) != ProcessState.Gone).ToList();
            Assert.True(left.Count == 0, "left running: " + string.Join(", ", left));
        }
        finally
        {
            foreach (var pid in pids) Posix.Kill(pid, Posix.Signals["KILL"]);
        }
    }
}
