using System.Diagnostics;
using System.Text.Json;
using Actors.Lab.Processes;

namespace Actors.Lab.Experiments;

/// <summary>
/// The steady-state hypothesis: each probe asks the live system one question with a tolerance.
/// <see cref="HoldWithin"/> polls until every probe holds or the time is up ("within T", never a
/// fixed sleep); <see cref="Sample"/> asks once (during the method).
/// </summary>
public sealed class SteadyStateProbes(ScenarioCluster cluster, AnnounceLoad? announces)
{
    /// <summary>Asks one probe once: whether it holds and what it saw.</summary>
    public async Task<(bool Holds, string Saw)> Ask(ProbeSpec probe, JsonDocument? status)
    {
        switch (probe.Type)
        {
            case "nodes-up":
            {
                if (status is null) return (false, "the lab did not answer");
                var bad = NotUp(status.RootElement, cluster.Processes(), probe.Nodes);
                return (bad.Count == 0, bad.Count == 0 ? "all up" : string.Join(", ", bad));
            }
            case "tracker-answers":
            {
                if (announces is null) return (false, "no announce load to ask with");
                var silent = new List<string>();
                foreach (var tracker in probe.Nodes)
                    if (await announces.SwarmAt(tracker, 0) is null) silent.Add(tracker);
                return (silent.Count == 0, silent.Count == 0 ? "every tracker answered" : $"no answer from {string.Join(", ", silent)}");
            }
            case "figure":
            {
                if (status is null) return (false, "the lab did not answer");
                var sum = Figure(status, probe.Nodes, probe.Figure);
                return (sum >= probe.Min && sum <= probe.Max, $"{probe.Figure} = {RunRecord.F(sum)} (want {RunRecord.F(probe.Min)}..{(probe.Max == double.MaxValue ? "" : RunRecord.F(probe.Max))})");
            }
            default:
                return (false, $"unknown probe type {probe.Type}");
        }
    }

    /// <summary>Polls every probe until all hold at once, or <paramref name="within"/> runs out; the last answers.</summary>
    public async Task<List<(ProbeSpec Probe, bool Holds, string Saw)>> HoldWithin(IReadOnlyList<ProbeSpec> probes, TimeSpan within, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            using var status = await cluster.Lab.Get("api/status");
            var answers = new List<(ProbeSpec, bool, string)>();
            foreach (var probe in probes)
            {
                var (holds, saw) = await Ask(probe, status);
                answers.Add((probe, holds, saw));
            }
            if (answers.All(a => a.Item2) || watch.Elapsed > within) return answers;
            await Task.Delay(250, cancel);
        }
    }

    /// <summary>
    /// The nodes-up probe (pure): each node the lab says is up, whose process (by the run's
    /// manifests) runs and has reported to the lab since it started. The lab's word alone says up
    /// for a killed node until the failure detector notices, and for a restarted one before its new
    /// process has joined and reported, so "up again after the rollback" would hold at once.
    /// Stricter than nodes.png (<see cref="ExperimentRunner.UpSamples"/>), which draws a node without
    /// a report yet as up: a probe waits, within T, for the report. Nodes without a manifest: the lab's word.
    /// </summary>
    public static List<string> NotUp(JsonElement status, IReadOnlyDictionary<string, (ProcessState State, long StartedUnixMs)> processes, IReadOnlyList<string> nodes)
    {
        var listed = status.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!, n => n);
        var bad = new List<string>();
        foreach (var name in nodes)
        {
            if (!listed.TryGetValue(name, out var node)) { bad.Add($"{name} unlisted"); continue; }
            var word = node.GetProperty("status").GetString();
            if (word != "up") { bad.Add($"{name} {word}"); continue; }
            if (!processes.TryGetValue(name, out var process)) continue;
            if (process.State != ProcessState.Running) { bad.Add($"{name} up for the lab, but its process is {process.State.ToString().ToLowerInvariant()}"); continue; }
            var reported = node.TryGetProperty("lastReportUnixMs", out var last) && last.ValueKind == JsonValueKind.Number ? last.GetInt64() : (long?)null;
            if (reported is null || reported < process.StartedUnixMs)
                bad.Add($"{name} up for the lab, but its process (started {process.StartedUnixMs}) has not reported{(reported is null ? "" : $" (last report {reported})")}");
        }
        return bad;
    }

    public static Dictionary<string, string> Statuses(JsonDocument status) =>
        status.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!, n => n.GetProperty("status").GetString()!);

    /// <summary>The sum of a figure (every tag set) over the nodes.</summary>
    public static double Figure(JsonDocument status, IReadOnlyList<string> nodes, string figure)
    {
        var sum = 0.0;
        foreach (var node in status.RootElement.GetProperty("nodes").EnumerateArray())
        {
            if (!nodes.Contains(node.GetProperty("name").GetString()!)) continue;
            foreach (var f in node.GetProperty("figures").EnumerateArray())
                if (f.GetProperty("name").GetString() == figure && f.GetProperty("value").ValueKind == JsonValueKind.Number)
                    sum += f.GetProperty("value").GetDouble();
        }
        return sum;
    }
}
