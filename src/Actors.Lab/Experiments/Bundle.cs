using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Actors.Lab.Experiments;

/// <summary>
/// Writes a run's bundle: scenario.conf, resolved.json, seed, events.jsonl, metrics.csv,
/// report.json, report.md, PNG plots (fault windows shaded) and re-run.sh. The folder already
/// holds logs/ and nodes/ (the processes' output and manifests) and swarm/ (the data).
/// </summary>
public static class Bundle
{
    // Enums by name (the nat-matrix kinds in resolved.json), as a reader of the bundle expects.
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <param name="section">A scenario kind's own result (the NAT matrix): a Markdown section for report.md and a value for report.json's <c>details</c>.</param>
    public static async Task Write(string dir, Scenario scenario, string scenarioText, int seed, IReadOnlyList<FaultStep> plan, RunRecord record, IReadOnlyList<string> reRun,
        (string Markdown, object Json)? section = null)
    {
        await File.WriteAllTextAsync(Path.Combine(dir, "scenario.conf"), scenarioText);
        await File.WriteAllTextAsync(Path.Combine(dir, "seed"), seed.ToString(CultureInfo.InvariantCulture) + "\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "resolved.json"), JsonSerializer.Serialize(new { scenario, seed, plan }, Json));

        var events = record.Events.OrderBy(e => e.UnixMs).ToList();
        await File.WriteAllLinesAsync(Path.Combine(dir, "events.jsonl"), events.Select(e => JsonSerializer.Serialize(new { t = Math.Round(record.At(e.UnixMs), 3), unixMs = e.UnixMs, source = e.Source, kind = e.Kind, text = e.Text })));

        var csv = new StringBuilder("t,node,metric,value\n");
        foreach (var s in record.Samples)
            csv.Append(RunRecord.F(s.T)).Append(',').Append(s.Node).Append(',').Append('"').Append(s.Metric.Replace("\"", "\"\"")).Append("\",").Append(RunRecord.F(s.Value)).Append('\n');
        await File.WriteAllTextAsync(Path.Combine(dir, "metrics.csv"), csv.ToString());

        var plots = Plots.Write(dir, scenario, record);
        var failed = record.Results.Where(r => !r.Passed).Select(r => $"{r.Phase}: {r.Name}").ToList();
        var report = new
        {
            scenario = scenario.Name,
            description = scenario.Description,
            seed,
            passed = record.Passed,
            failed,
            started = record.Started,
            methodSeconds = scenario.Duration.TotalSeconds,
            results = record.Results.Select(r => new { name = r.Name, phase = r.Phase, passed = r.Passed, detail = r.Detail }),
            faultWindows = record.FaultWindows.Select(w => new { from = w.From.TotalSeconds, to = w.To.TotalSeconds, label = w.Label }),
            plots,
            details = section?.Json,
        };
        await File.WriteAllTextAsync(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(report, Json));

        var md = new StringBuilder();
        md.Append("# ").Append(scenario.Name).Append(": ").Append(record.Passed ? "PASSED" : "FAILED").Append("\n\n");
        if (scenario.Description.Length > 0) md.Append(scenario.Description).Append("\n\n");
        md.Append($"Seed {seed}, started {record.Started:yyyy-MM-dd HH:mm:ss} UTC, method {scenario.Duration.TotalSeconds} s. Re-run: `./re-run.sh`.\n\n");
        md.Append("| phase | check | result | detail |\n|---|---|---|---|\n");
        foreach (var r in record.Results) md.Append($"| {r.Phase} | {r.Name} | {(r.Passed ? "ok" : "**FAILED**")} | {r.Detail.Replace("|", "\\|")} |\n");
        if (section is { } extra) md.Append('\n').Append(extra.Markdown);
        md.Append("\n## Method\n\n");
        foreach (var step in plan) md.Append($"- t = {step.At.TotalSeconds:0.#} s: {step}\n");
        if (plan.Count == 0) md.Append("- (no faults)\n");
        md.Append("\n## Plots (fault windows shaded)\n\n");
        foreach (var plot in plots) md.Append($"![{plot}]({plot})\n\n");
        md.Append("Files: `events.jsonl` (runner, load and lab events on the run's clock: t = 0 when the method begins), `metrics.csv` (every node's figures each second), `logs/` (each process's output), `nodes/` (how each was started).\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "report.md"), md.ToString());

        var script = Path.Combine(dir, "re-run.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\n# Runs this scenario again with the same seed (a new bundle next to this one).\nset -e\n" +
            "cd \"$(dirname \"$0\")\"\nexec " + string.Join(" ", reRun.Select(Quote)) + " lab run \"$PWD/scenario.conf\" --seed " + seed + " --out \"$PWD/../..\" \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
