using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Actors.Lab.Processes;
using ScottPlot;

namespace Actors.Lab.Experiments;

/// <summary>
/// <c>actors lab swarm --peers N --seeders S --size F --up-cap U</c>: one tracker node, N leechers
/// in P processes (<c>actors peer get --count</c>, each writing every peer's pieces once a second
/// with <c>--progress</c>), then S seeders; every upload capped at U. Measures each peer's
/// completion time from the seeders' start against the Kumar–Ross lower bound
/// max(F/u_s, F/d_min, N·F/(u_s + Σu_i)) (no download cap: F/d_min = 0), piece availability over
/// time (copies of each piece: <see cref="PieceAvailability"/>), and memory and CPU per peer (/proc of
/// every process). Leaves a bundle like a scenario run's: resolved.json (the arguments), seed,
/// events.jsonl, report.json, re-run.sh (<see cref="Bundle.WriteSweep"/>), and summary.json,
/// report.md, metrics.csv, availability.csv, completion-cdf.png, availability.png, resources.png.
/// A run that fails to start still leaves its report.json, events and re-run.sh.
/// </summary>
public sealed class SwarmExperiment(int peers, int seeders, long size, long upCap, int processes, TextWriter log)
{
    public sealed record Summary(int Peers, int Seeders, long SizeBytes, long UpCapBytesPerSecond, int Processes, double BoundSeconds,
        double? CompletionSeconds, double? Ratio, double? MedianSeconds, double? P90Seconds, int Completed,
        double PeakRssKiBPerPeer, double IdleRssKiBPerPeer, double CpuSecondsPerPeer, string Machine)
    {
        /// <summary>When the leechers first held every piece between them (least copies above the seeders'); the ideal is F/u_s.</summary>
        public double? LeechersHoldACopySeconds { get; init; }

        /// <summary>The most distributed copies (libtorrent's figure) seen in any second.</summary>
        public double? PeakDistributedCopies { get; init; }

        /// <summary>Whether the seeders super-seeded (BEP 16).</summary>
        public bool SuperSeed { get; init; }
    }

    /// <summary>The seeders super-seed (BEP 16, <c>actors peer seed --super-seed</c>): each piece is shown to one peer first.</summary>
    public bool SuperSeed { get; init; }

    /// <summary>The seed the file's random bytes are drawn from (<c>--seed</c>, default 1): the same seed, the same torrent.</summary>
    public int Seed { get; init; } = 1;

    private static readonly string[] PlotFiles = ["completion-cdf.png", "availability.png", "resources.png"];

    /// <summary>The arguments that run this swarm again, every default written out.</summary>
    public IReadOnlyList<string> Arguments()
    {
        var args = new List<string> { "lab", "swarm", "--peers", $"{peers}", "--seeders", $"{seeders}", "--size", $"{size}", "--up-cap", $"{upCap}",
            "--processes", $"{processes}", "--seed", $"{Seed}" };
        if (SuperSeed) args.Add("--super-seed");
        return args;
    }

    public async Task<Summary> Run(string bundle, IReadOnlyList<string> actors, CancellationToken cancel)
    {
        Directory.CreateDirectory(bundle);
        var record = new RunRecord();
        try
        {
            return await Bundle.RunSweep(record, () => Measure(bundle, actors, record, cancel),
                summary => summary.Completed == peers ? [] : [$"check: swarm-completes: {summary.Completed} of {peers} peers complete"],
                (failed, summary) => WriteBundle(bundle, actors, record, failed, summary));
        }
        finally
        {
            RemoveCopies(bundle);
        }
    }

    /// <summary>
    /// The file's copies (the seeders' in data/, every leecher's in out-*/) are N + S times F: 8 GB
    /// for 1,000 peers of 8 MiB, so a few sweeps filled this machine's disk. The bundle keeps what
    /// was measured; re-run.sh makes the copies again from the seed. Only files this run wrote.
    /// </summary>
    private static void RemoveCopies(string bundle)
    {
        if (!Directory.Exists(bundle)) return;
        foreach (var dir in Directory.EnumerateDirectories(bundle).Where(d => Path.GetFileName(d) is "data" || Path.GetFileName(d).StartsWith("out-", StringComparison.Ordinal)))
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { } // a file still held: left for the user, the run's result stands
            catch (UnauthorizedAccessException) { }
        }
    }

    private Task WriteBundle(string bundle, IReadOnlyList<string> actors, RunRecord record, IReadOnlyList<string> failed, Summary? summary) =>
        Bundle.WriteSweep(bundle, new SweepRun("swarm", $"swarm-n{peers}",
            string.Create(CultureInfo.InvariantCulture, $"{peers} leechers in {processes} process(es), {seeders} seeder(s){(SuperSeed ? " super-seeding" : "")}, {size} bytes, up-cap {upCap} B/s"),
            Arguments(), new { peers, seeders, sizeBytes = size, upCapBytesPerSecond = upCap, processes, superSeed = SuperSeed, seed = Seed, pieceLength = 65536 },
            Seed, failed, [.. PlotFiles.Where(p => File.Exists(Path.Combine(bundle, p)))], summary), actors, record);

    private async Task<Summary> Measure(string bundle, IReadOnlyList<string> actors, RunRecord record, CancellationToken cancel)
    {
        var logs = Directory.CreateDirectory(Path.Combine(bundle, "logs")).FullName;
        var pids = new List<(string Name, int Pid)>();
        var cluster = new ScenarioCluster(bundle, actors); // only for free ports and log tails; no manifests are written
        try
        {
            int Start(string name, IReadOnlyList<string> args)
            {
                var pid = ProcessLauncher.Start(new NodeManifest(name, 0, [.. actors, .. args], bundle, Path.Combine(logs, name + ".log"))).Pid;
                pids.Add((name, pid));
                record.Event(name, "started", $"pid {pid}: {string.Join(" ", args)}");
                return pid;
            }

            var trackerPort = cluster.FreePort();
            Start("tracker", ["tracker", "--name", "tracker", "--host", "127.0.0.1", "--port", $"{trackerPort}", "--cluster-port", $"{cluster.FreePort()}",
                "--min-interval", "2s", "--interval", "10s"]);
            await WaitListening(trackerPort, TimeSpan.FromSeconds(90), cancel);

            var data = Path.Combine(bundle, "data"); // the seeders' copy ("seed" is the seed file)
            Directory.CreateDirectory(data);
            var file = Path.Combine(data, "swarm.bin");
            var bytes = new byte[Math.Min(size, 1 << 24)];
            new Random(Seed).NextBytes(bytes);
            await using (var stream = File.Create(file))
                for (long written = 0; written < size; written += bytes.Length)
                    await stream.WriteAsync(bytes.AsMemory(0, (int)Math.Min(bytes.Length, size - written)), cancel);
            var torrent = Path.Combine(bundle, "swarm.torrent");
            var info = new ProcessStartInfo(actors[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in actors.Skip(1).Concat(["torrent", "create", file, "--tracker", $"http://127.0.0.1:{trackerPort}/announce", "--piece-length", "65536", "-o", torrent]))
                info.ArgumentList.Add(a);
            using (var make = Process.Start(info)!)
            {
                await make.WaitForExitAsync(cancel).WaitAsync(TimeSpan.FromSeconds(120), cancel);
                if (make.ExitCode != 0) throw new InvalidOperationException("actors torrent create failed: " + await make.StandardError.ReadToEndAsync(cancel));
            }
            record.Event("sweep", "torrent-created", $"{size} bytes of seed {Seed}'s random data, 64 KiB pieces");

            // Leechers first: they announce and find each other with nothing to trade; then the seeders.
            var leechers = new List<(string Name, int Pid, int Count, string Progress)>();
            for (var p = 0; p < processes; p++)
            {
                var count = peers / processes + (p < peers % processes ? 1 : 0);
                var progress = Path.Combine(bundle, $"progress-{p}.jsonl");
                string[] args = ["peer", "get", torrent, "--out", Path.Combine(bundle, $"out-{p}"), "--host", "127.0.0.1", "--count", $"{count}", "--progress", progress];
                if (upCap > 0) args = [.. args, "--max-up", $"{upCap}"];
                leechers.Add(($"leechers-{p}", Start($"leechers-{p}", args), count, progress));
            }
            var metrics = new StringBuilder("t,process,cpu_seconds,rss_bytes\n");
            var clock = Stopwatch.StartNew();
            // Settle: every leecher process has written progress (its peers listen and announced).
            var settle = Stopwatch.StartNew();
            while (settle.Elapsed < TimeSpan.FromSeconds(60 + peers * 0.05) && leechers.Any(l => !File.Exists(l.Progress) || new FileInfo(l.Progress).Length == 0))
                await Task.Delay(500, cancel);
            await Task.Delay(3000, cancel);
            var idleRss = leechers.Sum(l => Posix.Usage(l.Pid)?.ResidentBytes ?? 0);
            record.Event("sweep", "leechers-idle", $"{leechers.Count} process(es) wrote progress; {idleRss / 1024.0 / peers:F0} KiB resident per idle peer");

            // t = 0 when every seeder listens (its process start is not the swarm's time).
            var seederPorts = new List<int>();
            for (var s = 0; s < seeders; s++)
            {
                var port = cluster.FreePort();
                seederPorts.Add(port);
                string[] args = ["peer", "seed", torrent, "--data", data, "--host", "127.0.0.1", "--port", $"{port}"];
                if (upCap > 0) args = [.. args, "--max-up", $"{upCap}"];
                if (SuperSeed) args = [.. args, "--super-seed"];
                Start($"seeder-{s}", args);
            }
            foreach (var port in seederPorts) await WaitListening(port, TimeSpan.FromSeconds(90), cancel);
            record.StartClock("sweep", "seeders-listening", $"{seeders} seeder(s) listen: t = 0"); // t = 0, as in the plots
            var us = (double)seeders * upCap;
            var bound = upCap > 0 ? Math.Max(size / us, (double)peers * size / (us + (double)peers * upCap)) : 0;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"swarm: {peers} leechers in {processes} process(es), {seeders} seeder(s){(SuperSeed ? " super-seeding" : "")}, {(size >= 1 << 20 ? $"{size / (1 << 20)} MiB" : $"{size / 1024} KiB")}, up-cap {upCap / 1024} KiB/s; Kumar–Ross bound {bound:F1} s"));
            var deadline = TimeSpan.FromSeconds(Math.Max(bound * 20, peers * 0.2) + 120);
            var watch = Stopwatch.StartNew();
            var peakRss = 0L;
            while (watch.Elapsed < deadline && leechers.Any(l => Posix.State(l.Pid) != ProcessState.Gone))
            {
                var rss = 0L;
                foreach (var (name, pid, _, _) in leechers)
                    if (Posix.Usage(pid) is { } u)
                    {
                        rss += u.ResidentBytes;
                        metrics.Append(string.Create(CultureInfo.InvariantCulture, $"{watch.Elapsed.TotalSeconds:F1},{name},{u.CpuSeconds:F2},{u.ResidentBytes}\n"));
                    }
                peakRss = Math.Max(peakRss, rss);
                await Task.Delay(1000, cancel);
            }
            var cpu = ReadCpuFromLogs(leechers.Select(l => Path.Combine(logs, l.Name + ".log")));
            await File.WriteAllTextAsync(Path.Combine(bundle, "metrics.csv"), metrics.ToString(), cancel);

            // Per-peer completion and piece availability (copies per piece) from the progress files.
            var completion = new List<double>();
            var lines = new List<IReadOnlyList<SwarmProgress>>();
            foreach (var l in leechers)
            {
                var done = new double?[l.Count];
                var parsed = (File.Exists(l.Progress) ? File.ReadLines(l.Progress) : []).Select(SwarmProgress.Parse).ToList();
                foreach (var line in parsed)
                {
                    var t = record.At(line.UnixMs);
                    for (var i = 0; i < line.Have.Length && i < done.Length; i++)
                        if (done[i] is null && line.Have[i] == line.Pieces)
                        {
                            done[i] = Math.Max(0, t);
                            // One event per peer, up to 100 per process (a sweep of thousands would fill the file).
                            if (i < 100) record.Event(l.Name, "peer-complete", $"peer {i} of {l.Name} holds all {line.Pieces} pieces", line.UnixMs);
                        }
                }
                lines.Add(parsed);
                completion.AddRange(done.Where(d => d is not null).Select(d => d!.Value));
            }
            var availability = PieceAvailability.Over(lines, seeders, record.OriginUnixMs);
            completion.Sort();
            double? all = completion.Count == peers ? completion[^1] : null;
            var summary = new Summary(peers, seeders, size, upCap, processes, Math.Round(bound, 2), all is null ? null : Math.Round(all.Value, 2),
                all is null || bound == 0 ? null : Math.Round(all.Value / bound, 3),
                completion.Count > 0 ? Math.Round(completion[completion.Count / 2], 2) : null,
                completion.Count > 0 ? Math.Round(completion[(int)(completion.Count * 0.9)], 2) : null, completion.Count,
                Math.Round(peakRss / 1024.0 / peers, 1), Math.Round(idleRss / 1024.0 / peers, 1), Math.Round(cpu / peers, 3),
                $"{Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}")
            {
                LeechersHoldACopySeconds = availability.FirstOrDefault(a => a.Min > seeders)?.T,
                PeakDistributedCopies = availability.Count > 0 ? Math.Round(availability.Max(a => a.DistributedCopies), 3) : null,
                SuperSeed = SuperSeed,
            };
            await File.WriteAllTextAsync(Path.Combine(bundle, "summary.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }), cancel);
            await File.WriteAllTextAsync(Path.Combine(bundle, "availability.csv"), "t,min_copies,median_copies,max_copies,mean_copies,distributed_copies\n" + string.Concat(availability.Select(a =>
                string.Create(CultureInfo.InvariantCulture, $"{a.T},{a.Min},{a.Median},{a.Max},{a.Mean:F3},{a.DistributedCopies:F3}\n"))), cancel);
            WritePlots(bundle, completion, bound, availability, metrics.ToString());
            await File.WriteAllTextAsync(Path.Combine(bundle, "report.md"), Report(summary, string.Join(" ", Arguments())), cancel);
            record.Event("sweep", "ended", all is { } end ? string.Create(CultureInfo.InvariantCulture, $"all {peers} complete at t = {end:F1} s; bound {bound:F1} s") : $"{completion.Count} of {peers} complete");
            log.WriteLine(all is { } c
                ? string.Create(CultureInfo.InvariantCulture, $"  all {peers} complete {c:F1} s after the seeders started; bound {bound:F1} s; ratio {c / bound:F2}; median {summary.MedianSeconds} s")
                : $"  only {completion.Count} of {peers} complete within {deadline.TotalSeconds:F0} s");
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  memory per peer: idle {summary.IdleRssKiBPerPeer:F0} KiB, peak {summary.PeakRssKiBPerPeer:F0} KiB; CPU {summary.CpuSecondsPerPeer:F2} s per peer; bundle {bundle}"));
            return summary;
        }
        finally
        {
            foreach (var (_, pid) in pids) { Posix.Kill(pid, 18); Posix.Kill(pid, 9); }
            cluster.Dispose();
        }
    }

    /// <summary>CPU milliseconds from each leecher process's summary line ("…, cpu N ms"); its own measure of itself.</summary>
    private static double ReadCpuFromLogs(IEnumerable<string> logs)
    {
        var total = 0.0;
        foreach (var log in logs)
        {
            if (!File.Exists(log)) continue;
            foreach (var line in File.ReadLines(log))
            {
                var at = line.LastIndexOf("cpu ", StringComparison.Ordinal);
                if (at < 0 || !line.EndsWith(" ms", StringComparison.Ordinal)) continue;
                if (double.TryParse(line[(at + 4)..^3], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)) total += ms / 1000;
            }
        }
        return total;
    }

    private static async Task WaitListening(int port, TimeSpan timeout, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            using var client = new System.Net.Sockets.TcpClient();
            try { await client.ConnectAsync(System.Net.IPAddress.Loopback, port, cancel); return; }
            catch (System.Net.Sockets.SocketException) { await Task.Delay(200, cancel); }
        }
        throw new TimeoutException($"nothing listened on {port} within {timeout.TotalSeconds} s");
    }

    private void WritePlots(string bundle, List<double> completion, double bound, IReadOnlyList<PieceAvailability.Point> availability, string metrics)
    {
        var cdf = new Plot();
        cdf.Title($"completion CDF: {peers} peers, {seeders} seeder(s), {size >> 20} MiB, up-cap {upCap >> 10} KiB/s");
        cdf.XLabel("seconds since the seeders started");
        cdf.YLabel("fraction of peers complete");
        if (completion.Count > 0)
        {
            var line = cdf.Add.Scatter(completion.ToArray(), completion.Select((_, i) => (i + 1.0) / peers).ToArray());
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.LegendText = "measured";
        }
        var b = cdf.Add.VerticalLine(bound);
        b.LineColor = Colors.Red;
        b.LinePattern = LinePattern.Dashed;
        b.LegendText = $"Kumar–Ross bound {bound:F1} s";
        cdf.ShowLegend(Alignment.LowerRight);
        cdf.SavePng(Path.Combine(bundle, "completion-cdf.png"), 900, 420);

        // Copies of each piece in the swarm (seeders included): the least, median and most, the mean
        // (the mean share of the pieces a leecher holds is (mean − S) / N), and distributed copies.
        var avail = new Plot();
        avail.Title($"piece availability: copies of each piece in the swarm ({peers} leechers + {seeders} seeder(s))");
        avail.XLabel("seconds since the seeders started");
        avail.YLabel("copies of a piece");
        var xs = availability.Select(a => (double)a.T).ToArray();
        foreach (var (label, ys, color, pattern) in new (string, double[], Color, LinePattern)[]
                 {
                     ("max copies", availability.Select(a => (double)a.Max).ToArray(), Colors.Green, LinePattern.Dotted),
                     ("median copies", availability.Select(a => a.Median).ToArray(), Colors.Blue, LinePattern.Solid),
                     ("mean copies", availability.Select(a => a.Mean).ToArray(), Colors.Gray, LinePattern.Dashed),
                     ("min copies", availability.Select(a => (double)a.Min).ToArray(), Colors.Red, LinePattern.Dotted),
                     ("distributed copies", availability.Select(a => a.DistributedCopies).ToArray(), Colors.Black, LinePattern.Solid),
                 })
        {
            if (xs.Length == 0) break;
            var line = avail.Add.Scatter(xs, ys);
            line.MarkerSize = 0;
            line.LegendText = label;
            line.Color = color;
            line.LinePattern = pattern;
            line.LineWidth = label.StartsWith("distributed", StringComparison.Ordinal) ? 2 : 1.5f;
        }
        avail.ShowLegend(Edge.Right);
        avail.SavePng(Path.Combine(bundle, "availability.png"), 1000, 420);

        // Memory per peer over time (all leecher processes summed, divided by N).
        var rows = metrics.Split('\n').Skip(1).Where(r => r.Length > 0).Select(r => r.Split(','))
            .Select(r => (T: double.Parse(r[0], CultureInfo.InvariantCulture), Rss: double.Parse(r[3], CultureInfo.InvariantCulture), Cpu: double.Parse(r[2], CultureInfo.InvariantCulture)))
            .GroupBy(r => r.T).OrderBy(g => g.Key).ToList();
        var resources = new Plot();
        resources.Title("memory per peer (KiB, resident) and CPU per peer (ms/s)");
        resources.YLabel("KiB per peer");
        resources.XLabel("seconds since the seeders started");
        if (rows.Count > 1)
        {
            var rss = resources.Add.Scatter(rows.Select(g => g.Key).ToArray(), rows.Select(g => g.Sum(r => r.Rss) / 1024 / peers).ToArray());
            rss.MarkerSize = 0;
            rss.LegendText = "KiB per peer";
            var cpuSeries = rows.Select(g => g.Sum(r => r.Cpu)).ToArray();
            var cpuRate = new double[rows.Count - 1];
            for (var i = 1; i < rows.Count; i++) cpuRate[i - 1] = Math.Max(0, cpuSeries[i] - cpuSeries[i - 1]) / Math.Max(0.1, rows[i].Key - rows[i - 1].Key) * 1000 / peers;
            var c = resources.Add.Scatter(rows.Skip(1).Select(g => g.Key).ToArray(), cpuRate);
            c.MarkerSize = 0;
            c.LegendText = "CPU ms/s per peer (right axis)";
            c.Axes.YAxis = resources.Axes.Right; // ms/s and KiB differ by orders of magnitude
            resources.Axes.Right.Label.Text = "CPU ms/s per peer";
            resources.ShowLegend(Alignment.UpperRight);
        }
        resources.SavePng(Path.Combine(bundle, "resources.png"), 900, 420);
    }

    private static string Report(Summary s, string arguments) => string.Create(CultureInfo.InvariantCulture, $"""
        # Swarm: {s.Peers} peers, {s.Seeders} seeder(s), {s.SizeBytes >> 20} MiB, up-cap {s.UpCapBytesPerSecond >> 10} KiB/s

        `actors {arguments}`; re-run: `./re-run.sh`. Files: `resolved.json`, `seed`, `events.jsonl`, `report.json`, `summary.json`, `metrics.csv`, `availability.csv`, `logs/`.

        | figure | value |
        |---|---|
        | Kumar–Ross lower bound max(F/u_s, N·F/(u_s+Σu_i)) | {s.BoundSeconds} s |
        | every peer complete | {(s.CompletionSeconds is { } c ? $"{c} s" : $"no: {s.Completed} of {s.Peers}")} |
        | ratio to the bound | {(s.Ratio is { } r ? r.ToString(CultureInfo.InvariantCulture) : "-")} |
        | median / p90 completion | {s.MedianSeconds} s / {s.P90Seconds} s |
        | memory per peer, idle / peak (resident, leecher processes) | {s.IdleRssKiBPerPeer:F0} KiB / {s.PeakRssKiBPerPeer:F0} KiB |
        | CPU per peer (whole run) | {s.CpuSecondsPerPeer:F2} s |
        | leechers hold every piece between them (least copies of a piece above the seeders'; ideal F/u_s = {(s.UpCapBytesPerSecond > 0 ? Math.Round((double)s.SizeBytes / (s.Seeders * s.UpCapBytesPerSecond), 1).ToString(CultureInfo.InvariantCulture) + " s" : "-")}) | {(s.LeechersHoldACopySeconds is { } h ? $"t = {h} s" : "never")} |
        | peak distributed copies (least copies + share of pieces above it) | {s.PeakDistributedCopies} |
        | processes | {s.Processes} |
        | seeders super-seed (BEP 16) | {(s.SuperSeed ? "yes" : "no")} |
        | machine | {s.Machine} |

        ![completion CDF](completion-cdf.png)

        ![availability](availability.png)

        ![resources](resources.png)

        """);
}
