using System.Text.Json;
using Actors.Lab.Experiments;
using Actors.Lab.Processes;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// What nodes.png and metrics.csv call "up" (pure): the lab's word AND the process running (the one the lab heard from). The
/// lab's word alone lags a kill -9 by the failure detector's time (4–5 s here), which drew
/// tracker-kill's tracker2 up through most of its fault window.
/// </summary>
public sealed class NodesUpTests
{
    private const long Now = 1_800_000_000_000;

    private static JsonElement Status(params (string Name, string Status, long? LastReport)[] nodes) =>
        JsonDocument.Parse(JsonSerializer.Serialize(new { nodes = nodes.Select(n => new { name = n.Name, status = n.Status, lastReportUnixMs = n.LastReport }) })).RootElement;

    [Fact]
    public void A_node_is_up_only_while_its_process_runs_is_the_one_the_lab_heard_from_and_the_lab_says_up()
    {
        var status = Status(("seed", "up", Now), ("tracker1", "up", Now), ("tracker2", "up", Now - 3000), ("tracker3", "unreachable", Now - 5000),
            ("tracker4", "down", null), ("tracker5", "paused", Now - 1000), ("joiner", "joining", null), ("restarted", "up", Now - 4000),
            ("hand-run", "up", Now));
        var started = Now - 60_000;
        var processes = new Dictionary<string, (ProcessState, long)>
        {
            ["seed"] = (ProcessState.Running, started), ["tracker1"] = (ProcessState.Running, started),
            ["tracker2"] = (ProcessState.Gone, 0),      // killed; the cluster has not noticed yet
            ["tracker3"] = (ProcessState.Gone, 0), ["tracker4"] = (ProcessState.Gone, 0), ["tracker5"] = (ProcessState.Paused, started),
            ["joiner"] = (ProcessState.Running, Now - 500),
            ["restarted"] = (ProcessState.Running, Now - 1000), // a new process; the member the lab calls up last reported before it started
            ["removed"] = (ProcessState.Gone, 0),       // the lab no longer lists it at all
        };
        var samples = ExperimentRunner.UpSamples(status, processes).ToDictionary(s => s.Node, s => (s.Up, s.ClusterUp));

        Assert.Equal((1, 1), samples["seed"]);
        Assert.Equal((1, 1), samples["tracker1"]);
        Assert.Equal((0, 1), samples["tracker2"]); // down at once; the cluster's view still up
        Assert.Equal((0, 0), samples["tracker3"]);
        Assert.Equal((0, 0), samples["tracker4"]);
        Assert.Equal((0, 0), samples["tracker5"]);
        Assert.Equal((0, 0), samples["joiner"]);
        Assert.Equal((0, 1), samples["restarted"]);
        Assert.Equal((0, 0), samples["removed"]);
        Assert.Equal((1, 1), samples["hand-run"]); // no manifest: the lab's word
        Assert.Equal(10, samples.Count);

        // Once the new process reports, it is the member: up.
        var again = ExperimentRunner.UpSamples(Status(("restarted", "up", Now + 1000)), processes).Single(s => s.Node == "restarted");
        Assert.Equal((1, 1), (again.Up, again.ClusterUp));
    }

    /// <summary>
    /// The nodes-up probe is stricter than the plot: a node with a manifest is up only once its
    /// process has reported since it started. Without that, port-taken's "web1 up" held 10 ms after
    /// the rollback restarted web1 (the lab still listed the member up, with no report at all).
    /// </summary>
    [Fact]
    public void The_nodes_up_probe_wants_a_report_from_the_process_running_now()
    {
        var status = Status(("seed", "up", Now), ("fresh", "up", null), ("restarted", "up", Now - 4000), ("killed", "up", Now - 3000),
            ("joiner", "joining", Now), ("hand-run", "up", null));
        var processes = new Dictionary<string, (ProcessState, long)>
        {
            ["seed"] = (ProcessState.Running, Now - 60_000), ["fresh"] = (ProcessState.Running, Now - 100),
            ["restarted"] = (ProcessState.Running, Now - 1000), ["killed"] = (ProcessState.Gone, 0), ["joiner"] = (ProcessState.Running, Now - 500),
        };
        string[] all = ["seed", "fresh", "restarted", "killed", "joiner", "hand-run", "ghost"];
        var bad = SteadyStateProbes.NotUp(status, processes, all);
        Assert.Equal(["fresh", "restarted", "killed", "joiner", "ghost"], bad.Select(b => b.Split(' ')[0]));
        Assert.Empty(SteadyStateProbes.NotUp(status, processes, ["seed", "hand-run"]));
        // Once the restarted process reports, it is up.
        Assert.Empty(SteadyStateProbes.NotUp(Status(("restarted", "up", Now)), processes, ["restarted"]));
    }

    [Fact]
    public async Task The_relay_quota_check_fails_when_no_relay_carried_a_session_and_holds_or_fails_by_the_longest_stretch()
    {
        static async Task<(bool Passed, string Detail)> Check(params double[] sessions)
        {
            var record = new RunRecord();
            for (var i = 0; i < sessions.Length; i++)
                record.Samples.Enqueue(new Sample(i, "relay1", "actors.relay.sessions", sessions[i]));
            record.Samples.Enqueue(new Sample(0, "relay2", "actors.relay.sessions", 0));
            var checks = new InvariantChecks(null!, null, null, [], record); // relay-quota reads the samples alone
            return await checks.Check(new CheckSpec("relay-quota", "relay-quota", TimeSpan.Zero, 2, 0, []), CancellationToken.None);
        }

        var none = await Check(0, 0, 0, 0);
        Assert.False(none.Passed, none.Detail);
        Assert.Contains("no relay carried a session", none.Detail);
        var cut = await Check(0, 1, 1, 1, 0, 1, 0);
        Assert.True(cut.Passed, cut.Detail);
        Assert.Contains("relay1 2.0 s", cut.Detail);
        var held = await Check(0, 1, 1, 1, 1, 1, 0); // 4 s at a stretch > 2 s + 1.5 s
        Assert.False(held.Passed, held.Detail);
        Assert.Contains("relay1 held sessions for 4.0 s", held.Detail);
    }
}
