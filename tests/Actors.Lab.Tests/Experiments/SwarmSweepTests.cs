using System.Text.Json;
using Actors.Lab.Experiments;
using Actors.Lab.Processes;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// <c>actors lab swarm</c> as a user runs it, tiny: 3 leechers and a super-seeding seeder, 512 KiB
/// capped at 256 KiB/s (a bound of 2 s), through a real tracker and real peer processes; the
/// bundle's files (every file a scenario's bundle holds, listed by the dashboard) and figures.
/// </summary>
public sealed class SwarmSweepTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1000, 1)]
    [InlineData(1001, 2)]
    [InlineData(5000, 5)]
    public void Without_processes_given_the_leechers_run_one_process_per_thousand_peers(int peers, int processes)
    {
        Assert.Equal(processes, ExperimentCli.DefaultProcesses(peers));
    }

    [Fact]
    public async Task A_tiny_swarm_completes_and_leaves_a_bundle_with_plots_and_figures_against_the_bound()
    {
        using var temp = new TempDirectory("lab-swarm-");
        using var run = new ActorsProcess(["lab", "swarm", "--peers", "3", "--size", "512K", "--up-cap", "256K", "--super-seed", "--out", temp.Path]);
        var code = await run.WaitForExit(TimeSpan.FromSeconds(180));
        output.WriteLine(run.Output);
        Assert.True(code == 0, run.Output);
        Assert.Contains("seeder(s) super-seeding", run.Output);

        var bundle = Directory.EnumerateDirectories(Path.Combine(temp.Path, "swarm-n3")).Single();
        foreach (var file in new[] { "summary.json", "report.md", "metrics.csv", "availability.csv", "completion-cdf.png", "availability.png", "resources.png" })
            Assert.True(File.Exists(Path.Combine(bundle, file)), $"{file} missing from {bundle}");
        foreach (var png in new[] { "completion-cdf.png", "availability.png", "resources.png" })
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, (await File.ReadAllBytesAsync(Path.Combine(bundle, png)))[..4]);

        var summary = JsonSerializer.Deserialize<SwarmExperiment.Summary>(await File.ReadAllTextAsync(Path.Combine(bundle, "summary.json")))!;
        Assert.Equal(3, summary.Peers);
        Assert.Equal(3, summary.Completed);
        Assert.True(summary.SuperSeed);
        Assert.Equal(2.0, summary.BoundSeconds, 2); // max(F/u_s, N·F/(u_s + N·u)) = max(2, 1.5)
        Assert.NotNull(summary.CompletionSeconds);
        Assert.InRange(summary.MedianSeconds!.Value, 0, summary.CompletionSeconds!.Value);
        // Both rounded from the same unrounded time (the ratio to 3 places, the time to 2): equal within 0.01.
        Assert.InRange(Math.Abs(summary.CompletionSeconds.Value / summary.BoundSeconds - summary.Ratio!.Value), 0, 0.01);
        Assert.True(summary.PeakRssKiBPerPeer > 0 && summary.CpuSecondsPerPeer > 0, "memory and CPU per peer measured");
        Assert.Contains("| seeders super-seed (BEP 16) | yes |", await File.ReadAllTextAsync(Path.Combine(bundle, "report.md")));
        // The seeder really ran with --super-seed: it says so in its log.
        Assert.Contains("super-seeding (BEP 16)", await File.ReadAllTextAsync(Path.Combine(bundle, "logs", "seeder-0.log")));

        // The files every bundle holds (issue 11, item 2): the arguments resolved, the seed, events, report.json, re-run.sh.
        foreach (var file in new[] { "resolved.json", "seed", "events.jsonl", "report.json", "re-run.sh" })
            Assert.True(File.Exists(Path.Combine(bundle, file)), $"{file} missing from {bundle}");
        Assert.Equal("1", (await File.ReadAllTextAsync(Path.Combine(bundle, "seed"))).Trim());
        // The file's copies (N + S times F) are not kept: re-run.sh makes them again.
        Assert.DoesNotContain(Directory.EnumerateDirectories(bundle).Select(Path.GetFileName), d => d is "data" || d!.StartsWith("out-", StringComparison.Ordinal));
        const string arguments = "lab swarm --peers 3 --seeders 1 --size 524288 --up-cap 262144 --processes 1 --seed 1 --super-seed";
        using (var resolved = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "resolved.json"))))
            Assert.Equal(arguments, resolved.RootElement.GetProperty("arguments").GetString());
        Assert.Contains(arguments + " --out \"$PWD/../..\" \"$@\"", await File.ReadAllTextAsync(Path.Combine(bundle, "re-run.sh")));
        if (!OperatingSystem.IsWindows()) Assert.True(File.GetUnixFileMode(Path.Combine(bundle, "re-run.sh")).HasFlag(UnixFileMode.UserExecute));
        var events = (await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "seeders-listening" && e.GetProperty("t").GetDouble() == 0);
        Assert.Equal(3, events.Count(e => e.GetProperty("kind").GetString() == "peer-complete"));
        Assert.Contains(events, e => e.GetProperty("source").GetString() == "seeder-0" && e.GetProperty("kind").GetString() == "started");

        // The dashboard lists it (GET /api/runs reads report.json), passed, with its plots.
        using var list = JsonDocument.Parse(RunsApi.Reply(temp.Path, "/api/runs").Body);
        var listed = Assert.Single(list.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal("swarm-n3", listed.GetProperty("scenario").GetString());
        Assert.Equal("swarm", listed.GetProperty("kind").GetString());
        Assert.True(listed.GetProperty("passed").GetBoolean());
        Assert.Equal(["completion-cdf.png", "availability.png", "resources.png"], listed.GetProperty("plots").EnumerateArray().Select(p => p.GetString()));
    }
}
