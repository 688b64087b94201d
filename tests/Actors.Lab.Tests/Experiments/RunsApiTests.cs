using System.Text;
using System.Text.Json;
using Actors.Lab.Experiments;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>The dashboard's list of past runs: bundles newest first with their verdicts and plots, files served, nothing outside the folder.</summary>
public sealed class RunsApiTests
{
    [Fact]
    public void Runs_are_listed_newest_first_and_their_files_served_but_nothing_outside_the_folder()
    {
        using var temp = new TempDirectory("lab-runs-api-");
        foreach (var (stamp, passed) in new[] { ("20261127-100000", true), ("20261127-110000", false) })
        {
            var dir = temp.Dir(Path.Combine("tracker-kill", stamp));
            File.WriteAllText(Path.Combine(dir, "report.json"),
                $$"""{"passed":{{(passed ? "true" : "false")}},"seed":3,"failed":{{(passed ? "[]" : "[\"check: announces-kept\"]")}},"plots":["nodes.png"]}""");
            File.WriteAllBytes(Path.Combine(dir, "nodes.png"), [0x89, (byte)'P', (byte)'N', (byte)'G']);
        }
        File.WriteAllText(temp.Combine("secret.json"), "{}");

        var list = RunsApi.Reply(temp.Path, "/api/runs");
        Assert.Equal(200, list.Status);
        using var doc = JsonDocument.Parse(list.Body);
        var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["20261127-110000", "20261127-100000"], runs.Select(r => r.GetProperty("stamp").GetString()));
        Assert.False(runs[0].GetProperty("passed").GetBoolean());
        Assert.Equal("check: announces-kept", runs[0].GetProperty("failed")[0].GetString());

        var png = RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/20261127-100000/nodes.png");
        Assert.Equal(200, png.Status);
        Assert.Equal("image/png", png.ContentType);

        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/../secret.json").Status);
        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/..%2F../x/secret.json").Status);
        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/20261127-100000/missing.png").Status);
        Assert.Equal(404, RunsApi.Reply(temp.Path, "/api/runs/tracker-kill/20261127-100000/report.exe").Status);
        Assert.Empty(JsonDocument.Parse(RunsApi.Reply(temp.Combine("none"), "/api/runs").Body).RootElement.GetProperty("runs").EnumerateArray());
        _ = Encoding.UTF8;
    }

    /// <summary>
    /// A sweep's bundle (what <c>actors lab swarm</c> and <c>actors lab calls</c> write through
    /// <see cref="Bundle.WriteSweep"/>) holds the files a scenario's does and is listed beside
    /// scenario runs, with its kind; a sweep that failed is listed failed.
    /// </summary>
    [Fact]
    public async Task Sweep_bundles_hold_the_scenario_files_and_are_listed_beside_scenario_runs()
    {
        using var temp = new TempDirectory("lab-runs-sweeps-");
        var scenario = temp.Dir(Path.Combine("tracker-kill", "20261127-100000"));
        File.WriteAllText(Path.Combine(scenario, "report.json"), """{"passed":true,"seed":1,"failed":[],"plots":["nodes.png"]}""");
        string[] actors = ["/usr/bin/dotnet", "/opt/it's here/actors.dll"];

        var swarm = temp.Dir(Path.Combine("swarm-n3", "20261127-120000"));
        var record = new RunRecord();
        record.Event("sweep", "seeders-listening", "t = 0");
        await Bundle.WriteSweep(swarm, new SweepRun("swarm", "swarm-n3", "3 leechers",
            ["lab", "swarm", "--peers", "3", "--size", "524288", "--seed", "7", "--super-seed"], new { peers = 3 }, 7, [], ["completion-cdf.png"], new { Completed = 3 }),
            actors, record);
        var calls = temp.Dir(Path.Combine("calls", "20261127-130000"));
        await Bundle.WriteSweep(calls, new SweepRun("calls", "calls", "2 calls", ["lab", "calls", "--steps", "2,4", "--step-seconds", "0.5"],
            new { steps = new[] { 2, 4 } }, 1, ["setup: the relay did not listen"], [], null), actors, new RunRecord());

        foreach (var file in new[] { "resolved.json", "seed", "events.jsonl", "report.json", "re-run.sh" })
            Assert.True(File.Exists(Path.Combine(swarm, file)), $"{file} missing");
        Assert.Equal("7", File.ReadAllText(Path.Combine(swarm, "seed")).Trim());
        using (var resolved = JsonDocument.Parse(File.ReadAllText(Path.Combine(swarm, "resolved.json"))))
        {
            Assert.Equal("lab swarm --peers 3 --size 524288 --seed 7 --super-seed", resolved.RootElement.GetProperty("arguments").GetString());
            Assert.Equal(3, resolved.RootElement.GetProperty("resolved").GetProperty("peers").GetInt32());
        }
        Assert.Contains("\"kind\":\"seeders-listening\"", File.ReadAllText(Path.Combine(swarm, "events.jsonl")));
        // The command line, quoted for sh: the binary's path with a quote in it survives.
        var script = File.ReadAllLines(Path.Combine(swarm, "re-run.sh"));
        Assert.Equal("#!/bin/sh", script[0]);
        Assert.Contains("exec '/usr/bin/dotnet' '/opt/it'\\''s here/actors.dll' lab swarm --peers 3 --size 524288 --seed 7 --super-seed --out \"$PWD/../..\" \"$@\"", script);

        using var doc = JsonDocument.Parse(RunsApi.Reply(temp.Path, "/api/runs").Body);
        var runs = doc.RootElement.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["calls", "swarm-n3", "tracker-kill"], runs.Select(r => r.GetProperty("scenario").GetString()));
        Assert.Equal(["calls", "swarm", "scenario"], runs.Select(r => r.GetProperty("kind").GetString()));
        Assert.False(runs[0].GetProperty("passed").GetBoolean());
        Assert.Equal("setup: the relay did not listen", runs[0].GetProperty("failed")[0].GetString());
        Assert.True(runs[1].GetProperty("passed").GetBoolean());
        Assert.Equal(7, runs[1].GetProperty("seed").GetInt32());
        Assert.Equal("completion-cdf.png", runs[1].GetProperty("plots")[0].GetString());
        Assert.Equal(200, RunsApi.Reply(temp.Path, "/api/runs/swarm-n3/20261127-120000/re-run.sh").Status);
    }
}
