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

        await WriteEvents(dir, record);

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

        await WriteReRun(dir, "Runs this scenario again with the same seed (a new bundle next to this one).",
            string.Join(" ", reRun.Select(Quote)) + " lab run \"$PWD/scenario.conf\" --seed " + seed.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>events.jsonl: one JSON object per event, in time order, t on the run's clock (recomputed from unixMs once the origin is known).</summary>
    public static Task WriteEvents(string dir, RunRecord record) =>
        File.WriteAllLinesAsync(Path.Combine(dir, "events.jsonl"), record.Events.OrderBy(e => e.UnixMs)
            .Select(e => JsonSerializer.Serialize(new { t = Math.Round(record.At(e.UnixMs), 3), unixMs = e.UnixMs, source = e.Source, kind = e.Kind, text = e.Text })));

    /// <summary>
    /// re-run.sh: from the bundle's folder, <paramref name="command"/> (already quoted) with
    /// <c>--out</c> the runs folder two levels up, so the new bundle lands next to this one; extra
    /// arguments are passed on (e.g. <c>--repeat 3</c>).
    /// </summary>
    public static async Task WriteReRun(string dir, string comment, string command)
    {
        var script = Path.Combine(dir, "re-run.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\n# " + comment + "\nset -e\n" +
            "cd \"$(dirname \"$0\")\"\nexec " + command + " --out \"$PWD/../..\" \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    /// <summary>
    /// Runs a sweep's measurement and always leaves its bundle: with the failures
    /// <paramref name="failed"/> finds in the summary, or, when the sweep could not run (a timeout,
    /// a process that would not start, cancelled), with that reason, and the error goes on.
    /// </summary>
    public static async Task<T> RunSweep<T>(RunRecord record, Func<Task<T>> measure, Func<T, IReadOnlyList<string>> failed,
        Func<IReadOnlyList<string>, T?, Task> write) where T : class
    {
        try
        {
            var summary = await measure();
            await write(failed(summary), summary);
            return summary;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException or OperationCanceledException)
        {
            var why = e is OperationCanceledException ? "cancelled" : e.Message;
            record.Event("sweep", "failed", why);
            await write([$"setup: {why}"], null);
            throw;
        }
    }

    /// <summary>
    /// The files a sweep's bundle (<c>actors lab swarm</c>, <c>actors lab calls</c>) shares with a
    /// scenario's, so the dashboard lists it and it can be run again: <c>resolved.json</c> (the
    /// arguments, every value resolved, and the seed), <c>seed</c>, <c>events.jsonl</c>,
    /// <c>report.json</c> (the same keys as a scenario's, <c>kind</c> saying which sweep, the
    /// summary in <c>details</c>) and <c>re-run.sh</c> (the same arguments). The sweep writes
    /// metrics.csv, report.md and its plots itself.
    /// </summary>
    public static async Task WriteSweep(string dir, SweepRun run, IReadOnlyList<string> actors, RunRecord record)
    {
        var arguments = string.Join(" ", run.Arguments.Select(QuoteIfNeeded));
        await File.WriteAllTextAsync(Path.Combine(dir, "seed"), run.Seed.ToString(CultureInfo.InvariantCulture) + "\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "resolved.json"), JsonSerializer.Serialize(new { kind = run.Kind, arguments, seed = run.Seed, resolved = run.Resolved }, Json));
        await WriteEvents(dir, record);
        var report = new
        {
            scenario = run.Name,
            kind = run.Kind,
            description = run.Description,
            arguments,
            seed = run.Seed,
            passed = run.Failed.Count == 0,
            failed = run.Failed,
            started = record.Started,
            results = Array.Empty<object>(),
            faultWindows = Array.Empty<object>(),
            plots = run.Plots,
            details = run.Summary,
        };
        await File.WriteAllTextAsync(Path.Combine(dir, "report.json"), JsonSerializer.Serialize(report, Json));
        await WriteReRun(dir, $"Runs this {run.Kind} sweep again with the same arguments (a new bundle next to this one).",
            string.Join(" ", actors.Select(Quote)) + " " + arguments);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static string QuoteIfNeeded(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or ',' or '_' or '/') ? s : Quote(s);
}

/// <summary>
/// What a sweep leaves for <see cref="Bundle.WriteSweep"/>: its kind (<c>swarm</c>, <c>calls</c>),
/// the bundle's scenario name (<c>swarm-n3</c>, <c>calls</c>), the arguments that run it again
/// (after the actors binary, every default written out), the values they resolved to, the seed
/// its random data is drawn from, the failed checks (none: passed), the plots and the summary.
/// </summary>
public sealed record SweepRun(string Kind, string Name, string Description, IReadOnlyList<string> Arguments, object Resolved, int Seed,
    IReadOnlyList<string> Failed, IReadOnlyList<string> Plots, object? Summary);
