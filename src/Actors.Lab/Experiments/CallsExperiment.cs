using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Actors.Lab.Processes;
using ScottPlot;

namespace Actors.Lab.Experiments;

/// <summary>
/// <c>actors lab calls --steps 50,100,200,400</c>: one <c>actors rendezvous</c> and one
/// <c>actors relay</c> (real processes, loopback), then one <c>actors caller load</c> process that
/// runs every step: that many concurrent relayed calls, each end sending <c>frame-size</c> bytes
/// <c>frame-rate</c> times a second, measured against the same load over direct loopback pairs.
/// Added latency per frame = relayed − direct (p50, p99; one clock, both ends in the load process),
/// frames lost, and the relay's CPU and memory while measured (/proc). Leaves a bundle like the
/// swarm's: resolved.json (the arguments), seed, events.jsonl, report.json, re-run.sh
/// (<see cref="Bundle.WriteSweep"/>), summary.json, metrics.csv, report.md, calls-latency.png,
/// logs/, nodes/. A sweep that fails to start still leaves its report.json, events and re-run.sh.
/// </summary>
public sealed class CallsExperiment(IReadOnlyList<int> steps, int frameRate, int frameSize, double stepSeconds, TextWriter log)
{
    private const string Secret = "lab-calls-secret";
    private const string IdPrefix = "load-";
    /// <summary>Identities the load's relay probes may use up beyond two per call (<c>RelayedCallLoad.SpareIdentities</c>).</summary>
    private const int SpareIdentities = 200;

    public sealed record Step(int Calls, double SetupSeconds, double? DirectP50Ms, double? DirectP99Ms, double? RelayedP50Ms, double? RelayedP99Ms,
        double? RelayedMaxMs, double? AddedP50Ms, double? AddedP99Ms, long FramesSent, long FramesReceived, long FramesLost,
        double? RelayCpuPercent, double? RelayRssMiB);

    public sealed record Summary(IReadOnlyList<int> Steps, int FrameRate, int FrameSize, double StepSeconds, double WarmUpSeconds,
        IReadOnlyList<Step> Results, string? Error, string Started, string Machine);

    private double WarmUp => Math.Min(1, stepSeconds / 2);

    /// <summary>The media load's payload bytes come from <c>new Random(1)</c> (<c>MediaLoad</c>): fixed, so every sweep sends the same bytes.</summary>
    private const int MediaSeed = 1;

    /// <summary>The arguments that run this sweep again, every default written out.</summary>
    public IReadOnlyList<string> Arguments() =>
        ["lab", "calls", "--steps", string.Join(",", steps), "--frame-rate", $"{frameRate}", "--frame-size", $"{frameSize}",
         "--step-seconds", stepSeconds.ToString(CultureInfo.InvariantCulture)];

    public async Task<Summary> Run(string bundle, IReadOnlyList<string> actors, CancellationToken cancel)
    {
        Directory.CreateDirectory(bundle);
        var record = new RunRecord();
        return await Bundle.RunSweep(record, () => Measure(bundle, actors, record, cancel),
            summary => summary.Error is { } e ? [$"sweep: {e}"] : [],
            (failed, summary) => WriteBundle(bundle, actors, record, failed, summary));
    }

    private Task WriteBundle(string bundle, IReadOnlyList<string> actors, RunRecord record, IReadOnlyList<string> failed, Summary? summary) =>
        Bundle.WriteSweep(bundle, new SweepRun("calls", "calls",
            string.Create(CultureInfo.InvariantCulture, $"relayed calls at {string.Join(", ", steps)} concurrent, {frameRate} frames/s of {frameSize} B each way, {stepSeconds} s measured per step"),
            Arguments(), new { steps, frameRate, frameSize, stepSeconds, warmUpSeconds = WarmUp, mediaSeed = MediaSeed },
            MediaSeed, failed, File.Exists(Path.Combine(bundle, "calls-latency.png")) ? ["calls-latency.png"] : [], summary), actors, record);

    private async Task<Summary> Measure(string bundle, IReadOnlyList<string> actors, RunRecord record, CancellationToken cancel)
    {
        var started = DateTime.UtcNow;
        var loadBefore = LoadAverage();
        var pids = new Dictionary<string, int>();
        // Free ports, and a manifest per process in nodes/ (output in logs/): disposing it kills every one.
        using var cluster = new ScenarioCluster(bundle, actors);
        var logs = cluster.Logs;
        try
        {
            void Start(string name, IReadOnlyList<string> args)
            {
                pids[name] = cluster.StartLoad(name, 0, args);
                record.Event(name, "started", $"pid {pids[name]}: {string.Join(" ", args)}");
            }

            // Two fresh identities per call, plus the relay probes': the rendezvous only admits users it knows.
            var users = Path.Combine(bundle, "users.txt");
            await File.WriteAllLinesAsync(users, Enumerable.Range(0, 2 * steps.Sum() + SpareIdentities).Select(i => $"{IdPrefix}{i}:{Secret}"), cancel);
            int rendezvousPort = cluster.FreePort(), rendezvousCluster = cluster.FreePort(), relayPort = cluster.FreePort(), relayCluster = cluster.FreePort();
            Start("rendezvous", ["rendezvous", "--name", "rendezvous", "--host", "127.0.0.1", "--port", $"{rendezvousPort}", "--users", users,
                "--cluster-host", "127.0.0.1", "--cluster-port", $"{rendezvousCluster}"]);
            Start("relay", ["relay", "--name", "relay", "--host", "127.0.0.1", "--public-host", "127.0.0.1", "--port", $"{relayPort}",
                "--max-sessions", $"{steps.Max() + 50}", "--max-bytes", "1000 GiB",
                "--cluster-host", "127.0.0.1", "--cluster-port", $"{relayCluster}", "--seed", $"127.0.0.1:{rendezvousCluster}"]);
            await Task.WhenAll(cluster.WaitForPort(rendezvousPort, "rendezvous", TimeSpan.FromSeconds(90), cancel),
                cluster.WaitForPort(relayPort, "relay", TimeSpan.FromSeconds(90), cancel));
            record.Event("sweep", "listening", $"rendezvous on {rendezvousPort}, relay on {relayPort}");

            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"calls: steps {string.Join(",", steps)}; {frameRate} frames/s of {frameSize} B each way per call; {WarmUp:0.#} s warm-up + {stepSeconds:0.#} s measured per load"));
            // The load waits for the relay to join the cluster itself (it places calls until one is relayed).
            var loadLog = Path.Combine(logs, "load.log");
            Start("load", ["caller", "load", "--rendezvous", $"127.0.0.1:{rendezvousPort}", "--secret", Secret, "--id-prefix", IdPrefix,
                "--steps", string.Join(",", steps), "--frame-rate", $"{frameRate}", "--frame-size", $"{frameSize}",
                "--seconds", stepSeconds.ToString(CultureInfo.InvariantCulture), "--warm-up", WarmUp.ToString(CultureInfo.InvariantCulture)]);

            // Sample every process each second while the load runs; print each step as it ends.
            var samples = new List<(double T, long UnixMs, string Process, double Cpu, long Rss)>();
            var clock = Stopwatch.StartNew();
            var deadline = TimeSpan.FromSeconds(90 + steps.Sum(s => 2 * (WarmUp + stepSeconds) + 6 + s * 0.05));
            var printed = 0;
            while (Posix.State(pids["load"]) != ProcessState.Gone && clock.Elapsed < deadline)
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                foreach (var (name, pid) in pids)
                    if (Posix.Usage(pid) is { } u) samples.Add((clock.Elapsed.TotalSeconds, now, name, u.CpuSeconds, u.ResidentBytes));
                printed = PrintNew(ReadLines(loadLog), printed);
                await Task.Delay(1000, cancel);
            }
            // One more sample: the load may exit within a second of its last window, and that window's
            // CPU figure needs a relay sample after it (the relay still runs).
            foreach (var (name, pid) in pids)
                if (Posix.Usage(pid) is { } u) samples.Add((clock.Elapsed.TotalSeconds, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), name, u.CpuSeconds, u.ResidentBytes));
            var lines = ReadLines(loadLog);
            PrintNew(lines, printed);
            var error = lines.FirstOrDefault(l => l.Error is not null)?.Error
                ?? (Posix.State(pids["load"]) != ProcessState.Gone ? $"the load did not finish within {deadline.TotalSeconds:F0} s"
                : lines.Count < steps.Count ? $"the load exited after {lines.Count} of {steps.Count} steps: {cluster.Tail("load", 3).Replace('\n', ' ')}" : null);

            var results = lines.Where(l => l.Error is null && l.Relayed is not null && l.Direct is not null).Select(l => ToStep(l, samples)).ToList();
            foreach (var l in lines)
                record.Event("load", l.Error is null ? "step-measured" : "step-failed", l.Error ?? string.Create(CultureInfo.InvariantCulture,
                    $"{l.Calls} calls: relayed p50 {l.Relayed?.P50Ms:F2} p99 {l.Relayed?.P99Ms:F2} ms, direct p99 {l.Direct?.P99Ms:F2} ms, lost {l.Relayed?.Lost} of {l.Relayed?.Sent}"),
                    l.MeasuredToUnixMs > 0 ? l.MeasuredToUnixMs : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (error is not null) record.Event("sweep", "failed", error);
            var summary = new Summary(steps, frameRate, frameSize, stepSeconds, WarmUp, results, error,
                started.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
                $"{Environment.ProcessorCount} cores, load average {loadBefore} before, {LoadAverage()} after");
            await File.WriteAllTextAsync(Path.Combine(bundle, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }), cancel);
            var csv = new StringBuilder("t,unix_ms,process,cpu_seconds,rss_bytes\n");
            foreach (var s in samples) csv.Append(string.Create(CultureInfo.InvariantCulture, $"{s.T:F1},{s.UnixMs},{s.Process},{s.Cpu:F2},{s.Rss}\n"));
            await File.WriteAllTextAsync(Path.Combine(bundle, "metrics.csv"), csv.ToString(), cancel);
            WritePlot(bundle, results);
            await File.WriteAllTextAsync(Path.Combine(bundle, "report.md"), Report(summary), cancel);
            if (error is not null) log.WriteLine($"  FAILED: {error}");
            log.WriteLine($"  bundle {bundle}");
            return summary;
        }
        finally
        {
            foreach (var pid in pids.Values) { Posix.Kill(pid, 18); Posix.Kill(pid, 9); }
        }
    }

    private int PrintNew(List<CallLoadLine> lines, int printed)
    {
        foreach (var l in lines.Skip(printed))
            log.WriteLine(l.Error is { } e ? $"  {l.Calls,5} calls: {e}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"  {l.Calls,5} calls: direct p99 {l.Direct?.P99Ms:F2} ms, relayed p50 {l.Relayed?.P50Ms:F2} p99 {l.Relayed?.P99Ms:F2} max {l.Relayed?.MaxMs:F1} ms, lost {l.Relayed?.Lost} of {l.Relayed?.Sent}"));
        return lines.Count;
    }

    /// <summary>A step's figures; the relay's CPU over the measured window from the samples around it (null with fewer than two).</summary>
    public static Step ToStep(CallLoadLine line, IReadOnlyList<(double T, long UnixMs, string Process, double Cpu, long Rss)> samples)
    {
        var (d, r) = (line.Direct!, line.Relayed!);
        var relay = samples.Where(s => s.Process == "relay").ToList();
        var before = relay.LastOrDefault(s => s.UnixMs <= line.MeasuredFromUnixMs);
        var after = relay.FirstOrDefault(s => s.UnixMs >= line.MeasuredToUnixMs);
        double? cpu = before.Process is not null && after.Process is not null && after.UnixMs > before.UnixMs
            ? Math.Round((after.Cpu - before.Cpu) / ((after.UnixMs - before.UnixMs) / 1000.0) * 100, 1) : null;
        var during = relay.Where(s => s.UnixMs >= line.MeasuredFromUnixMs && s.UnixMs <= line.MeasuredToUnixMs).Select(s => s.Rss).DefaultIfEmpty(after.Rss).Max();
        return new Step(line.Calls, line.SetupSeconds, d.P50Ms, d.P99Ms, r.P50Ms, r.P99Ms, r.MaxMs,
            Minus(r.P50Ms, d.P50Ms), Minus(r.P99Ms, d.P99Ms), r.Sent, r.Received, r.Lost, cpu, during > 0 ? Math.Round(during / 1048576.0, 1) : null);
    }

    private static double? Minus(double? a, double? b) => a is { } x && b is { } y ? Math.Round(x - y, 3) : null;

    private static List<CallLoadLine> ReadLines(string file)
    {
        if (!File.Exists(file)) return [];
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = new List<CallLoadLine>();
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
            if (CallLoadLine.Parse(line) is { } parsed) lines.Add(parsed);
        return lines;
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }

    private void WritePlot(string bundle, List<Step> results)
    {
        var plot = new Plot();
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"added latency per frame through one relay: {frameRate} frames/s of {frameSize} B each way per call"));
        plot.XLabel("concurrent relayed calls");
        plot.YLabel("added one-way latency, ms (relayed − direct)");
        foreach (var (label, pick, color) in new (string, Func<Step, double?>, Color)[]
                 { ("p50 added", s => s.AddedP50Ms, Colors.Blue), ("p99 added", s => s.AddedP99Ms, Colors.Red) })
        {
            var points = results.Where(s => pick(s) is not null).ToList();
            if (points.Count == 0) continue;
            var line = plot.Add.Scatter(points.Select(s => (double)s.Calls).ToArray(), points.Select(s => pick(s)!.Value).ToArray());
            line.LegendText = label;
            line.Color = color;
            line.MarkerSize = 7;
            // The figures themselves: steps far apart in latency squash the small ones on a linear axis.
            foreach (var point in points)
            {
                var text = plot.Add.Text(pick(point)!.Value.ToString(Math.Abs(pick(point)!.Value) < 10 ? "F1" : "F0", CultureInfo.InvariantCulture), point.Calls, pick(point)!.Value);
                text.LabelFontColor = color;
                text.LabelFontSize = 12;
                text.LabelAlignment = label.StartsWith("p99", StringComparison.Ordinal) ? Alignment.LowerRight : Alignment.UpperLeft;
            }
        }
        var zero = plot.Add.HorizontalLine(0);
        zero.LineColor = Colors.Gray;
        zero.LinePattern = LinePattern.Dashed;
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(Path.Combine(bundle, "calls-latency.png"), 900, 420);
    }

    private static string Report(Summary s)
    {
        static string F(double? v, string format = "F2") => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "-";
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Calls: concurrent relayed calls against added latency\n\n");
        md.Append(CultureInfo.InvariantCulture, $"{s.FrameRate} frames/s of {s.FrameSize} B each way per call; per step the same load over direct loopback pairs (baseline), ");
        md.Append(CultureInfo.InvariantCulture, $"then through one relay; {s.WarmUpSeconds:0.#} s warm-up + {s.StepSeconds:0.#} s measured each. Started {s.Started}; {s.Machine}. Re-run: `./re-run.sh`.\n\n");
        if (s.Error is not null) md.Append("**FAILED**: ").Append(s.Error).Append("\n\n");
        md.Append("| calls | direct p50 / p99 ms | relayed p50 / p99 / max ms | **added p50 / p99 ms** | frames sent | lost | relay CPU % | relay RSS MiB | setup s |\n");
        md.Append("|---|---|---|---|---|---|---|---|---|\n");
        foreach (var r in s.Results)
            md.Append(CultureInfo.InvariantCulture,
                $"| {r.Calls} | {F(r.DirectP50Ms)} / {F(r.DirectP99Ms)} | {F(r.RelayedP50Ms)} / {F(r.RelayedP99Ms)} / {F(r.RelayedMaxMs, "F1")} | **{F(r.AddedP50Ms)} / {F(r.AddedP99Ms)}** | {r.FramesSent} | {r.FramesLost} | {F(r.RelayCpuPercent, "F0")} | {F(r.RelayRssMiB, "F0")} | {r.SetupSeconds:F1} |\n");
        md.Append("\n![added latency against concurrent calls](calls-latency.png)\n\n");
        md.Append("One-way latency per frame, sender and receiver in the load process (one clock). Added = relayed − direct at the same percentile ")
          .Append("(a small negative value is noise). Lost: frames sent while measured that had not arrived 2 s after. The load process shares the cores with the relay. ")
          .Append("Files: `resolved.json` (the arguments), `seed`, `events.jsonl` (each process started, each step measured), `report.json`, `re-run.sh`, `summary.json`, `metrics.csv` (CPU seconds and resident bytes of the rendezvous, relay and load processes each second), `logs/` (each process's output), `nodes/` (how each was started).\n");
        return md.ToString();
    }
}
