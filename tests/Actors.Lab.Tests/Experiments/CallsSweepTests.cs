using System.Text.Json;
using Actors.Lab.Experiments;
using Actors.Lab.Processes;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// <c>actors lab calls</c> as a user runs it: a tiny sweep (2 and 4 relayed calls, 0.5 s measured
/// per load) through a real rendezvous, relay and load process; the bundle's files and numbers.
/// 11–25 s on a loaded machine (load average 20–30).
/// </summary>
public sealed class CallsSweepTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_tiny_calls_sweep_leaves_a_bundle_with_sane_latency_and_counted_frames()
    {
        using var temp = new TempDirectory("lab-calls-");
        int code;
        string text;
        try
        {
            using var run = new ActorsProcess(["lab", "calls", "--steps", "2,4", "--step-seconds", "0.5", "--out", temp.Path]);
            code = await run.WaitForExit(TimeSpan.FromSeconds(120));
            text = run.Output;
        }
        finally
        {
            NodeCleanup.KillNodesBelow(temp.Path);
        }
        output.WriteLine(text);
        Assert.True(code == 0, text);
        var bundle = Directory.EnumerateDirectories(Path.Combine(temp.Path, "calls")).Single();
        foreach (var file in new[] { "summary.json", "metrics.csv", "report.md", "calls-latency.png", "re-run.sh" })
            Assert.True(File.Exists(Path.Combine(bundle, file)), $"{file} missing from {bundle}");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, (await File.ReadAllBytesAsync(Path.Combine(bundle, "calls-latency.png")))[..4]);
        Assert.Contains("lab calls --steps 2,4 --frame-rate 50 --frame-size 172 --step-seconds 0.5", await File.ReadAllTextAsync(Path.Combine(bundle, "re-run.sh")));
        if (!OperatingSystem.IsWindows()) Assert.True(File.GetUnixFileMode(Path.Combine(bundle, "re-run.sh")).HasFlag(UnixFileMode.UserExecute));

        var summary = JsonSerializer.Deserialize<CallsExperiment.Summary>(await File.ReadAllTextAsync(Path.Combine(bundle, "summary.json")))!;
        Assert.Null(summary.Error);
        Assert.Equal([2, 4], summary.Results.Select(r => r.Calls));
        foreach (var r in summary.Results)
        {
            // Two ends × 50 frames/s × 0.5 s per call; a loaded machine's timers may skip ticks, never add frames.
            var expected = r.Calls * 2 * 25;
            Assert.InRange(r.FramesSent, expected / 10, expected + 2 * r.Calls * 2);
            Assert.InRange(r.FramesReceived, 1, r.FramesSent);
            Assert.Equal(r.FramesSent - r.FramesReceived, r.FramesLost);
            Assert.InRange(r.RelayedP50Ms!.Value, 0, 10_000);
            Assert.InRange(r.RelayedP99Ms!.Value, r.RelayedP50Ms.Value, r.RelayedMaxMs!.Value);
            Assert.InRange(r.DirectP99Ms!.Value, r.DirectP50Ms!.Value, 10_000);
            Assert.True(r.DirectP50Ms >= 0);
            Assert.Equal(Math.Round(r.RelayedP99Ms.Value - r.DirectP99Ms.Value, 3), r.AddedP99Ms!.Value, 3);
        }
        Assert.Contains("| 4 |", await File.ReadAllTextAsync(Path.Combine(bundle, "report.md")));
        var csv = await File.ReadAllLinesAsync(Path.Combine(bundle, "metrics.csv"));
        Assert.Equal("t,unix_ms,process,cpu_seconds,rss_bytes", csv[0]);
        Assert.Contains(csv, l => l.Contains(",relay,", StringComparison.Ordinal));
        // Every process of the sweep stopped with it.
        var alive = new ManifestStore(Path.Combine(bundle, "nodes")).ReadAll().Where(m => m.State() != ProcessState.Gone).Select(m => m.Name).ToList();
        Assert.True(alive.Count == 0, "left running: " + string.Join(", ", alive));

        // The files every bundle holds (issue 11, item 2), and the dashboard lists it.
        foreach (var file in new[] { "resolved.json", "seed", "events.jsonl", "report.json" })
            Assert.True(File.Exists(Path.Combine(bundle, file)), $"{file} missing from {bundle}");
        using (var resolved = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "resolved.json"))))
            Assert.Equal("lab calls --steps 2,4 --frame-rate 50 --frame-size 172 --step-seconds 0.5", resolved.RootElement.GetProperty("arguments").GetString());
        var events = (await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, events.Count(e => e.GetProperty("kind").GetString() == "step-measured"));
        Assert.Contains(events, e => e.GetProperty("source").GetString() == "relay" && e.GetProperty("kind").GetString() == "started");
        using var list = JsonDocument.Parse(RunsApi.Reply(temp.Path, "/api/runs").Body);
        var listed = Assert.Single(list.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal("calls", listed.GetProperty("kind").GetString());
        Assert.True(listed.GetProperty("passed").GetBoolean());
        Assert.Equal(1, listed.GetProperty("seed").GetInt32());
        Assert.Equal(["calls-latency.png"], listed.GetProperty("plots").EnumerateArray().Select(p => p.GetString()));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("2,x")]
    [InlineData("")]
    public async Task Bad_steps_are_a_usage_error(string steps)
    {
        using var temp = new TempDirectory("lab-calls-bad-");
        using var run = new ActorsProcess(["lab", "calls", "--steps", steps, "--out", temp.Path]);
        var code = await run.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(code == 2, run.Output);
        Assert.Contains("--steps", run.Output);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "calls")), "no bundle for a usage error");
    }

    [Fact]
    public void A_load_line_round_trips_and_a_step_takes_the_relay_cpu_from_the_samples_around_its_window()
    {
        var line = new CallLoadLine(4, 0.5, CallLoadLine.Latency.Of(0.1, 1.0, 2.0, 400, 400), CallLoadLine.Latency.Of(0.3, 4.0, 9.0, 400, 398), 10_000, 12_000);
        var parsed = CallLoadLine.Parse(line.ToJson());
        Assert.Equal(line, parsed);
        Assert.Null(CallLoadLine.Parse("actors caller: something else"));
        Assert.Null(CallLoadLine.Latency.Of(double.NaN, double.NaN, double.NaN, 10, 0).P50Ms);

        var samples = new List<(double T, long UnixMs, string Process, double Cpu, long Rss)>
        {
            (0, 9_500, "relay", 1.0, 100 << 20), (0, 9_500, "load", 5.0, 50 << 20),
            (1, 11_000, "relay", 1.5, 120 << 20), (2, 12_500, "relay", 2.5, 110 << 20),
        };
        var step = CallsExperiment.ToStep(parsed!, samples);
        Assert.Equal(2, step.FramesLost);
        Assert.Equal(0.2, step.AddedP50Ms!.Value, 3);
        Assert.Equal(3.0, step.AddedP99Ms!.Value, 3);
        Assert.Equal(50.0, step.RelayCpuPercent); // 1.5 CPU s over the 3 s from 9.5 to 12.5
        Assert.Equal(120.0, step.RelayRssMiB);
        Assert.Null(CallsExperiment.ToStep(parsed!, samples.Take(2).ToList()).RelayCpuPercent); // no sample after the window
    }
}
