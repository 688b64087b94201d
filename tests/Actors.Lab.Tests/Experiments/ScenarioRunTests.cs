using System.Text.Json;
using Actors.Lab.Experiments;
using Actors.Lab.Processes;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// <c>actors lab run FILE --repeat N --seed S</c> with a random nemesis, as a user runs it: a tiny
/// scenario (a seed and a tracker node, 5 announces/s, a 5 s method in which the nemesis pauses or
/// partitions tracker1 at 2 s and 4 s, each undone 1 s later) run twice. Each run's seed is S + i,
/// its bundle says so, the faults the lab injected are the plan drawn from that seed (the runner's
/// <c>fault-applied</c> events and the lab's own <c>fault-begun</c>/<c>fault-ended</c> in
/// events.jsonl), and the first bundle's <c>re-run.sh</c>, executed, runs the same scenario with
/// the same seed and plan into a third bundle.
/// </summary>
public sealed class ScenarioRunTests(ITestOutputHelper output)
{
    private const string Scenario = """
        scenario {
          name = nemesis
          seed = 1
          duration = 5s
          nodes = [ { name = seed, role = seed }, { name = tracker1, role = tracker } ]
          load { announces { trackers = [tracker1], rate = 5, torrents = 2 } }
          steady-state { within = 30s, probes = [ { name = "seed and tracker1 up", type = nodes-up } ] }
          method = []
          nemesis { interval = 2s, heal-after = 1s, faults = [pause, partition], targets = [tracker1] }
          rollbacks = [heal, resume]
          checks = [ { type = announces-kept, within = 20s } ]
        }
        """;

    private static string Plan(Scenario scenario, int seed) => string.Join("; ", FaultPlan.Build(scenario, seed).Select(s => $"{s.At.TotalSeconds} {s}"));

    [Fact]
    public async Task Repeated_runs_take_seeds_S_and_S_plus_1_inject_each_seeds_nemesis_and_re_run_sh_runs_the_same_plan_again()
    {
        using var temp = new TempDirectory("lab-run-nemesis-");
        var file = Path.Combine(temp.Path, "nemesis.conf");
        await File.WriteAllTextAsync(file, Scenario);
        var scenario = ScenarioFile.Load(file);
        // A first seed whose plan differs from the scenario's own seed's and from the next seed's:
        // a run that ignored --seed, or gave every repeat the same seed, would inject another plan.
        var first = Enumerable.Range(2, 100).First(s => Plan(scenario, s) != Plan(scenario, scenario.Seed) && Plan(scenario, s + 1) != Plan(scenario, s));
        var runs = Path.Combine(temp.Path, "runs");
        try
        {
            using (var run = new ActorsProcess(["lab", "run", file, "--repeat", "2", "--seed", $"{first}", "--out", runs]))
            {
                var code = await run.WaitForExit(TimeSpan.FromSeconds(180));
                output.WriteLine(run.Output);
                Assert.True(code == 0, run.Output);
                Assert.Contains("nemesis: every check held in 2 run(s)", run.Output);
                Assert.Contains($"nemesis (seed {first}): PASSED", run.Output);
                Assert.Contains($"nemesis (seed {first + 1}): PASSED", run.Output);
            }
            var bundles = Directory.EnumerateDirectories(Path.Combine(runs, "nemesis")).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2, bundles.Count);
            await AssertNemesisRan(bundles[0], scenario, first);
            await AssertNemesisRan(bundles[1], scenario, first + 1);

            // re-run.sh: the bundle's copy of the scenario (byte-identical to the file run) and the same seed ...
            Assert.Equal(Scenario, await File.ReadAllTextAsync(Path.Combine(bundles[0], "scenario.conf")));
            var script = (await File.ReadAllLinesAsync(Path.Combine(bundles[0], "re-run.sh"))).Single(l => l.StartsWith("exec ", StringComparison.Ordinal));
            Assert.EndsWith($" lab run \"$PWD/scenario.conf\" --seed {first} --out \"$PWD/../..\" \"$@\"", script);
            // ... and run: a third bundle next to them, same seed, same plan injected.
            using (var again = new ProcessRunner("sh", [Path.Combine(bundles[0], "re-run.sh")], name: "re-run.sh"))
            {
                var code = await again.WaitForExitAsync(TimeSpan.FromSeconds(120));
                output.WriteLine(again.Output);
                Assert.True(code == 0, again.Output);
            }
            var third = Directory.EnumerateDirectories(Path.Combine(runs, "nemesis")).Except(bundles).Single();
            await AssertNemesisRan(third, scenario, first);
        }
        finally
        {
            NodeCleanup.KillNodesBelow(runs);
        }
    }

    private async Task AssertNemesisRan(string bundle, Scenario scenario, int seed)
    {
        var plan = FaultPlan.Build(scenario, seed);
        Assert.Equal($"{seed}", (await File.ReadAllTextAsync(Path.Combine(bundle, "seed"))).Trim());
        using (var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "report.json"))))
        {
            Assert.Equal(seed, report.RootElement.GetProperty("seed").GetInt32());
            Assert.True(report.RootElement.GetProperty("passed").GetBoolean());
            Assert.Equal(2, report.RootElement.GetProperty("faultWindows").GetArrayLength());
        }
        var events = (await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        string Of(JsonElement e, string key) => e.GetProperty(key).GetString()!;

        // The runner applied the plan drawn from this seed, in order, and the lab accepted every step.
        var applied = events.Where(e => Of(e, "source") == "runner" && Of(e, "kind") is "fault-applied" or "fault-failed").Select(e => Of(e, "text")).ToList();
        output.WriteLine($"{Path.GetFileName(bundle)} seed {seed}: {string.Join(" | ", applied)}");
        Assert.Equal(plan.Count, applied.Count);
        for (var i = 0; i < plan.Count; i++) Assert.StartsWith(plan[i] + ": ", applied[i]);
        Assert.DoesNotContain(events, e => Of(e, "kind") == "fault-failed");

        // The lab's own log says each fault began and ended on the live cluster.
        var lab = events.Where(e => Of(e, "kind").StartsWith("lab:fault-", StringComparison.Ordinal)).Select(e => $"{Of(e, "source")} {Of(e, "kind")} {Of(e, "text")}").ToList();
        foreach (var step in plan)
        {
            var expected = step.Action switch
            {
                "pause" => $"{step.Target} lab:fault-begun paused with SIGSTOP",
                "resume" => $"{step.Target} lab:fault-ended resumed with SIGCONT",
                "partition" => $"lab lab:fault-begun partition {step.Target}: [{step.Target}] |",
                "heal" => "lab lab:fault-ended healed every cluster link",
                _ => throw new InvalidOperationException(step.Action),
            };
            Assert.True(lab.Any(l => l.StartsWith(expected, StringComparison.Ordinal)), $"no '{expected}' in the lab's events: {string.Join(" | ", lab)}");
        }
    }
}
