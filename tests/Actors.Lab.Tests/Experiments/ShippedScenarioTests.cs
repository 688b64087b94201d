using Actors.Lab.Processes;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// Every shipped scenario (config/lab/*.conf) run as a user runs it: <c>actors lab run FILE</c>,
/// a cluster of real processes of its own and a lab; exit 0 and a complete bundle, or, for
/// must-fail, exit 1 naming the failed check. Each takes 30–75 s on a loaded machine.
/// </summary>
public sealed class ShippedScenarioTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunBound = TimeSpan.FromSeconds(240);

    [Theory]
    [InlineData("tracker-kill")]
    [InlineData("partition-heal")]
    [InlineData("relay-kill")]
    [InlineData("seeder-slow-link")]
    [InlineData("rendezvous-loss")]
    [InlineData("swarm-churn")]
    public async Task Scenario_passes_and_leaves_a_complete_bundle(string name)
    {
        using var temp = new TempDirectory($"lab-run-{name}-");
        var (code, text, bundle) = await Run(name, temp);
        Assert.True(code == 0, text);
        await AssertCompleteBundle(bundle);
    }

    /// <summary>
    /// relay-quota: both relays cut every session after 2 s (<c>--max-duration</c>) under an 8 s
    /// relayed call. The check holds (no relay held sessions past the quota + 1.5 s), and it was
    /// not vacuous: a relay carried the call (its sessions gauge above zero in metrics.csv) and the
    /// call changed path when its session was cut. 28 s on an idle machine.
    /// </summary>
    [Fact]
    public async Task Relay_quota_passes_with_a_relayed_session_cut_at_its_quota()
    {
        using var temp = new TempDirectory("lab-run-relay-quota-");
        var (code, text, bundle) = await Run("relay-quota", temp);
        Assert.True(code == 0, text);
        await AssertCompleteBundle(bundle);
        Assert.Contains("check: relay-quota: longest stretch with sessions open", text);
        var carried = (await File.ReadAllLinesAsync(Path.Combine(bundle, "metrics.csv"))).Skip(1).Select(l => l.Split(','))
            .Where(f => f[1].StartsWith("relay", StringComparison.Ordinal) && f[2].StartsWith("\"actors.relay.sessions", StringComparison.Ordinal))
            .Any(f => double.Parse(f[^1], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.True(carried, "no relay's sessions gauge was ever above zero: the quota was never reached");
        var reports = (await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"))).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("kind").GetString() == "call-report")
            .Select(e => System.Text.Json.JsonDocument.Parse(e.GetProperty("text").GetString()!).RootElement).ToList();
        Assert.NotEmpty(reports);
        Assert.Contains(reports, r => r.GetProperty("pathChanges").GetInt32() >= 1);
    }

    /// <summary>
    /// port-taken: the failure policy acting on a live cluster. web1 is killed, the runner takes its
    /// HTTP port, the lab restarts it: that process exits 1 (the lab, its parent, records the code)
    /// with exactly one line in the bundle's logs/web1.log naming the port; the rollback releases
    /// the port and restarts web1, which is up again (the after probe, and member-up after the exit).
    /// </summary>
    [Fact]
    public async Task Port_taken_ends_the_restarted_node_with_exit_1_and_one_line_then_it_comes_back()
    {
        using var temp = new TempDirectory("lab-run-port-taken-");
        var (code, text, bundle) = await Run("port-taken", temp);
        Assert.True(code == 0, text);
        await AssertCompleteBundle(bundle);
        Assert.Contains("check: node-exits: web1 exited 1× with code 1", text);
        Assert.Contains("after: seed and web1 up: all up", text);

        var events = (await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"))).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
            .Select(e => (T: e.GetProperty("t").GetDouble(), Source: e.GetProperty("source").GetString()!, Kind: e.GetProperty("kind").GetString()!, Text: e.GetProperty("text").GetString()!)).ToList();
        var held = Assert.Single(events, e => e.Kind == "fault-applied" && e.Text.StartsWith("hold-port web1", StringComparison.Ordinal));
        var port = held.Text[(held.Text.IndexOf("127.0.0.1:", StringComparison.Ordinal) + "127.0.0.1:".Length)..].Split(',')[0];
        var exited = Assert.Single(events, e => e.Kind == "lab:exited" && e.Source == "web1");
        Assert.Contains($"exited with code 1: actors web: cannot listen on 127.0.0.1:{port}", exited.Text);
        var released = Assert.Single(events, e => e.Kind == "rollback" && e.Text.StartsWith("release-port web1", StringComparison.Ordinal));
        Assert.True(released.T >= exited.T, $"the port was released at t={released.T} s, before the exit at t={exited.T} s");
        Assert.Contains(events, e => e.Kind == "lab:member-up" && e.Source == "web1" && e.T > released.T);

        var lines = (await File.ReadAllLinesAsync(Path.Combine(bundle, "logs", "web1.log"))).Where(l => l.StartsWith("actors web:", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", line);
        Assert.Contains("in use", line);
    }

    private static async Task AssertCompleteBundle(string bundle)
    {
        foreach (var file in new[] { "scenario.conf", "resolved.json", "seed", "events.jsonl", "metrics.csv", "report.json", "report.md", "re-run.sh", "nodes.png" })
            Assert.True(File.Exists(Path.Combine(bundle, file)), $"{file} missing from {bundle}");
        Assert.Contains("PASSED", await File.ReadAllTextAsync(Path.Combine(bundle, "report.md")));
        // A PNG, not an empty file.
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, (await File.ReadAllBytesAsync(Path.Combine(bundle, "nodes.png")))[..4]);
    }


    [Fact]
    public async Task The_scenario_written_to_fail_exits_1_naming_the_failed_check()
    {
        using var temp = new TempDirectory("lab-run-must-fail-");
        var (code, text, bundle) = await Run("must-fail", temp);
        Assert.True(code == 1, text);
        Assert.Contains("must-fail FAILED", text);
        Assert.Contains("check: replicas-converge", text);
        Assert.Contains("\"passed\": false", await File.ReadAllTextAsync(Path.Combine(bundle, "report.json")));
    }

    /// <summary>
    /// Ctrl-C once the scenario's nodes and lab run: the run says so, exits 1, and no process it
    /// started is left (the runtime's default for SIGINT would end it at once and leave them all).
    /// </summary>
    [Fact]
    public async Task Ctrl_C_during_a_run_stops_every_process_it_started_and_exits_1()
    {
        using var temp = new TempDirectory("lab-run-int-");
        var file = Path.Combine(AppContext.BaseDirectory, "lab-scenarios", "tracker-kill.conf");
        var started = new List<NodeManifest>();
        try
        {
            using var run = new ActorsProcess(["lab", "run", file, "--out", temp.Path]);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (ReadManifests(temp).All(m => m.Name != "lab")) // the lab starts last
            {
                Assert.True(DateTime.UtcNow < deadline && !run.HasExited, run.Output);
                await Task.Delay(200);
            }
            await Task.Delay(2000); // the nodes are starting or up
            started.AddRange(ReadManifests(temp));
            Assert.True(started.Count >= 4, $"only {started.Count} processes started: {run.Output}"); // seed, two trackers, the lab
            run.Signal("INT");
            var code = await run.WaitForExit(TimeSpan.FromSeconds(90));
            output.WriteLine(run.Output);
            Assert.True(code == 1, run.Output);
            Assert.Contains("SIGINT: stopping and tearing everything down", run.Output);
            Assert.Contains("FAILED (seed 1: setup: run)", run.Output);
            var alive = ReadManifests(temp).Where(m => m.State() != ProcessState.Gone).Select(m => $"{m.Name} (pid {m.Pid})").ToList();
            Assert.True(alive.Count == 0, "left running: " + string.Join(", ", alive));
        }
        finally
        {
            foreach (var m in ReadManifests(temp)) m.Signal("KILL");
        }
    }

    private static List<NodeManifest> ReadManifests(TempDirectory temp) =>
        [.. Directory.EnumerateDirectories(temp.Path, "nodes", SearchOption.AllDirectories).SelectMany(d => new ManifestStore(d).ReadAll())];

    private async Task<(int Code, string Output, string Bundle)> Run(string name, TempDirectory temp)
    {
        var file = Path.Combine(AppContext.BaseDirectory, "lab-scenarios", name + ".conf");
        int code;
        string text;
        try
        {
            using var run = new ActorsProcess(["lab", "run", file, "--out", temp.Path]);
            code = await run.WaitForExit(RunBound);
            text = run.Output;
        }
        finally
        {
            // Whatever happened, no node of the run outlives the test.
            NodeCleanup.KillNodesBelow(temp.Path);
        }
        output.WriteLine(text);
        var bundle = Directory.EnumerateDirectories(Path.Combine(temp.Path, name)).Single();
        // Keep the bundle for a look after the test (the temp folder is deleted).
        var keep = Environment.GetEnvironmentVariable("LAB_RUNS_KEEP");
        if (!string.IsNullOrEmpty(keep)) CopyDirectory(bundle, Path.Combine(keep, name));
        return (code, text, bundle);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
    }
}
