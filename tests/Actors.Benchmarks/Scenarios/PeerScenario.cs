using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// BitTorrent on loopback, all peers as real processes tracked by one <c>actors tracker</c> node:
/// (1) one seeder → one leecher of a large file, our pair against an aria2 pair in the same run
/// (MB/s, ratio); (2) a swarm of N of our peers (one process, <c>--count N</c>) plus one seeder,
/// every peer with the same upload cap u, whose completion time is compared with the lower
/// bound max(F/u_s, F/d_min, N·F/(u_s + Σu_i)) (no download caps, so d_min = ∞).
/// </summary>
public sealed partial class PeerScenario(BenchOptions options)
{
    private const int PairPieceLength = 1024 * 1024;
    private const int SwarmPieceLength = 64 * 1024;
    private static readonly TimeSpan PairTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Returns true when every peer ran and finished cleanly.</summary>
    public async Task<bool> RunAsync(CancellationToken cancel)
    {
        Machine.PrintHeader("peer", options.Duration, options.Rounds);
        var aria2 = CommandRunner.Which("aria2c") ?? throw new SetupException("aria2c not installed (apt-get install -y aria2)");
        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancel);
        if (actors.ActorsDll is null) throw new SetupException("actors.dll not available; pass --actors PATH");
        var lab = new Lab(actors.ActorsDll, aria2, cancel);
        using var temp = TempDirectory.Create("actors-bench-peer-");
        var trackerPort = Ports.FindFree();
        using var tracker = lab.Actors("tracker", ["tracker", "--port", $"{trackerPort}", "--host", "127.0.0.1", "--min-interval", "2s"]);
        if (await Ports.WaitUntilListeningAsync(trackerPort, tracker, TimeSpan.FromSeconds(30), cancel) is { } why)
            throw new SetupException($"our tracker did not start: {why}\n{tracker.RecentOutput}");
        var announce = $"http://127.0.0.1:{trackerPort}/announce";

        var clean = options.SwarmOnly || await PairsAsync(lab, temp, announce, trackerPort);
        clean &= await SwarmAsync(lab, temp, announce, trackerPort);
        return clean;
    }

    // ---- One seeder → one leecher ---------------------------------------------------------

    private async Task<bool> PairsAsync(Lab lab, TempDirectory temp, string announce, int trackerPort)
    {
        var size = (long)options.SizeMiB * 1024 * 1024;
        Console.WriteLine($"pair: one seeder → one leecher, {options.SizeMiB} MiB of random data, {PairPieceLength / 1024} KiB pieces, no caps; " +
                          "time from starting the leecher process to its exit (start-up, announce, download, verification)");
        var seedDir = temp.CreateSubdirectory("pair-seed");
        WriteRandom(Path.Combine(seedDir, "ours.bin"), size);
        // The same bytes under another name: a second swarm (another info-hash), so neither leecher sees the other seeder.
        File.Copy(Path.Combine(seedDir, "ours.bin"), Path.Combine(seedDir, "aria2.bin"));
        var oursTorrent = await lab.CreateTorrentAsync(Path.Combine(seedDir, "ours.bin"), announce, PairPieceLength, temp.Path);
        var aria2Torrent = await lab.CreateTorrentAsync(Path.Combine(seedDir, "aria2.bin"), announce, PairPieceLength, temp.Path);

        using var ourSeeder = lab.Actors("ours seeder", ["peer", "seed", oursTorrent.Path, "--data", seedDir, "--host", "127.0.0.1"]);
        using var aria2Seeder = lab.Aria2("aria2 seeder", ["--seed-ratio=0.0", "--check-integrity=true", "--bt-seed-unverified=true", $"--dir={seedDir}", aria2Torrent.Path]);
        await lab.AwaitSeedersAsync(trackerPort, oursTorrent.InfoHash, 1, TimeSpan.FromMinutes(2), ourSeeder);
        await lab.AwaitSeedersAsync(trackerPort, aria2Torrent.InfoHash, 1, TimeSpan.FromMinutes(2), aria2Seeder);

        // seeder → leecher; "ours" seeds ours.bin, aria2 seeds aria2.bin (separate swarms).
        var pairs = new[] { ("ours", "ours"), ("aria2", "aria2"), ("ours", "aria2"), ("aria2", "ours") };
        var samples = pairs.ToDictionary(p => p, _ => new List<double>());
        // On a shared machine wall time is noisy; the seeder's CPU time per GiB is not. User and
        // system time are kept apart: the system time is mostly the kernel's copies (socket, page
        // cache), whose cost here depends on the machine's memory state (SettleMemory), so the
        // user time is the figure least moved by what ran before.
        var seederCpuPerGiB = new Dictionary<string, List<CpuTime>> { ["ours"] = [], ["aria2"] = [] };
        var leecherCpuPerGiB = new Dictionary<string, List<CpuTime>> { ["ours"] = [], ["aria2"] = [] };
        var clean = true;
        for (var round = 1; round <= options.Rounds; round++)
        {
            // Rotate who goes first: the page cache and CPU frequency favour no one.
            foreach (var (seeder, leecherKind) in pairs.Skip(round - 1).Concat(pairs.Take(round - 1)))
            {
                var (torrent, name) = seeder == "ours" ? (oursTorrent.Path, "ours.bin") : (aria2Torrent.Path, "aria2.bin");
                var outDir = temp.CreateSubdirectory($"pair-{seeder}-{leecherKind}-{round}");
                SettleMemory(temp.Path, size);
                using var leecher = leecherKind == "ours"
                    ? lab.Actors("ours leecher", ["peer", "get", torrent, "--out", outDir, "--host", "127.0.0.1"], timed: true)
                    : lab.Aria2("aria2 leecher", ["--seed-time=0", $"--dir={outDir}", torrent], timed: true);
                var seederProcess = seeder == "ours" ? ourSeeder : aria2Seeder;
                var cpuBefore = ProcessCpu.Times(seederProcess.Id);
                var watch = Stopwatch.StartNew();
                var exited = await leecher.WaitForExitAsync(PairTimeout, lab.Cancel);
                watch.Stop();
                var seederCpu = ProcessCpu.Times(seederProcess.Id) - cpuBefore;
                var file = Path.Combine(outDir, name);
                var label = $"{seeder} → {leecherKind}";
                if (!exited || leecher.ExitCode != 0 || !File.Exists(file) || new FileInfo(file).Length != size)
                {
                    Console.WriteLine($"  round {round}: {label} FAILED ({(exited ? $"exit {leecher.ExitCode}" : "timed out")})\n{leecher.RecentOutput}");
                    clean = false;
                }
                else
                {
                    var mbps = size / 1e6 / watch.Elapsed.TotalSeconds;
                    var perGiB = (double)(1L << 30) / size;
                    samples[(seeder, leecherKind)].Add(mbps);
                    seederCpuPerGiB[seeder].Add(seederCpu * perGiB);
                    var leecherCpu = Lab.ChildrenCpuTime(leecher);
                    if (leecherCpu is { } cpu) leecherCpuPerGiB[leecherKind].Add(cpu * perGiB);
                    Console.WriteLine($"  round {round}: {label,-15} {mbps,8:F1} MB/s  ({watch.Elapsed.TotalSeconds:F2} s; seeder used {seederCpu} CPU s, leecher {(leecherCpu is { } c ? c.ToString() : "?")} CPU s)");
                }
                Directory.Delete(outDir, recursive: true);
            }
        }
        Console.WriteLine("pair medians (MB = 10^6 bytes):");
        foreach (var pair in pairs.Where(p => samples[p].Count > 0))
            Console.WriteLine($"  {pair.Item1 + " → " + pair.Item2,-15} {Stats.Median(samples[pair]),8:F1} MB/s");
        foreach (var (seeder, cpu) in seederCpuPerGiB.Where(c => c.Value.Count > 0))
            Console.WriteLine($"  {seeder} seeder: {CpuMedians.Of(cpu)} CPU s per GiB uploaded");
        // The whole leecher process: start-up, announce, download, verification (ours: its JIT too).
        foreach (var (leecher, cpu) in leecherCpuPerGiB.Where(c => c.Value.Count > 0))
            Console.WriteLine($"  {leecher} leecher: {CpuMedians.Of(cpu)} CPU s per GiB downloaded (its whole process)");
        if (seederCpuPerGiB["ours"].Count > 0 && seederCpuPerGiB["aria2"].Count > 0)
            Console.WriteLine($"  seeder ours/aria2: {Ratio(seederCpuPerGiB)}");
        if (leecherCpuPerGiB["ours"].Count > 0 && leecherCpuPerGiB["aria2"].Count > 0)
            Console.WriteLine($"  leecher ours/aria2: {Ratio(leecherCpuPerGiB)}");
        if (samples[("ours", "ours")].Count > 0 && samples[("aria2", "aria2")].Count > 0)
            Console.WriteLine($"  ours/aria2 (pair against pair) = {Stats.Median(samples[("ours", "ours")]) / Stats.Median(samples[("aria2", "aria2")]):F2}");
        Console.WriteLine();
        return clean;
    }

    // ---- A capped swarm against its lower bound ------------------------------------------

    private async Task<bool> SwarmAsync(Lab lab, TempDirectory temp, string announce, int trackerPort)
    {
        var n = options.Peers;
        var size = (long)options.SwarmSizeMiB * 1024 * 1024;
        var cap = (long)options.UploadCapKiB * 1024;
        var bound = new[] { (double)size / cap, (double)n * size / (cap + n * cap) }.Max();
        Console.WriteLine($"swarm: 1 seeder + {n} leechers (`actors peer get --count {n}`, one process), {options.SwarmSizeMiB} MiB, " +
                          $"{SwarmPieceLength / 1024} KiB pieces, every peer's upload capped at {options.UploadCapKiB} KiB/s, no download caps");
        Console.WriteLine($"  lower bound max(F/u_s, N·F/(u_s + Σu_i)) = max({(double)size / cap:F1}, {(double)n * size / (cap + n * cap):F1}) = {bound:F1} s");
        var seedDir = temp.CreateSubdirectory("swarm-seed");
        WriteRandom(Path.Combine(seedDir, "swarm.bin"), size);
        var torrent = await lab.CreateTorrentAsync(Path.Combine(seedDir, "swarm.bin"), announce, SwarmPieceLength, temp.Path);
        string[] superSeed = options.SuperSeed ? ["--super-seed"] : [];
        Console.WriteLine($"  seeder: {(options.SuperSeed ? "super-seeding (BEP 16)" : "as configured (config/peer.conf: actors.peer.super-seed)")}; load average before: {Machine.LoadAverage()}");
        // Both write a JSON line per second (pieces per peer, bytes uploaded per peer): the timeline printed below.
        var seederProgress = Path.Combine(temp.Path, "swarm-seeder.jsonl");
        var swarmProgress = Path.Combine(temp.Path, "swarm-leechers.jsonl");
        using var seeder = lab.Actors("swarm seeder", ["peer", "seed", torrent.Path, "--data", seedDir, "--host", "127.0.0.1", "--max-up", $"{cap}",
            "--progress", seederProgress, .. superSeed]);
        await lab.AwaitSeedersAsync(trackerPort, torrent.InfoHash, 1, TimeSpan.FromMinutes(1), seeder);

        var outDir = temp.CreateSubdirectory("swarm-out");
        var startedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var swarm = lab.Actors("swarm", ["peer", "get", torrent.Path, "--out", outDir, "--host", "127.0.0.1", "--count", $"{n}", "--max-up", $"{cap}",
            "--progress", swarmProgress]);
        var watch = Stopwatch.StartNew();
        var exited = await swarm.WaitForExitAsync(TimeSpan.FromSeconds(bound * 10 + 60), lab.Cancel);
        watch.Stop();
        if (!exited || swarm.ExitCode != 0)
        {
            Console.WriteLine($"  swarm FAILED ({(exited ? $"exit {swarm.ExitCode}" : "timed out")})\n{swarm.RecentOutput}");
            return false;
        }
        var summary = swarm.StandardOutput.Split('\n').LastOrDefault(l => l.Contains("complete and verified")) ?? "";
        Console.WriteLine($"  leechers: {summary.Trim()}");
        // The seeder prints a progress line every 2 s, its upload total in it.
        await Task.Delay(2500, lab.Cancel);
        var seederLine = seeder.StandardOutput.Split('\n').LastOrDefault(l => l.Contains(" pieces "))?.Trim() ?? "";
        Console.WriteLine($"  seeder: {seederLine}");
        // "↑ R/s (T MiB)": what the seeder uploaded in all, against the file's size (1.0: every piece sent once).
        var up = SeederUpload().Match(seederLine);
        if (up.Success)
            Console.WriteLine($"  seeder uploaded {up.Groups[1].Value} MiB for a {options.SwarmSizeMiB} MiB file: " +
                              $"{double.Parse(up.Groups[1].Value, CultureInfo.InvariantCulture) / options.SwarmSizeMiB:F2} × F");
        var ownTiming = Timing().Match(summary);
        if (ownTiming.Success)
            Console.WriteLine($"  the leechers' own clock (from their torrent loaded to all verified): {double.Parse(ownTiming.Groups[1].Value, CultureInfo.InvariantCulture) / 1000:F1} s");
        PrintTimeline(seederProgress, swarmProgress, startedUnixMs, size, bound);
        Console.WriteLine($"  all {n} complete in {watch.Elapsed.TotalSeconds:F1} s (from process start); ratio to the lower bound = {watch.Elapsed.TotalSeconds / bound:F2}; " +
                          $"load average after: {Machine.LoadAverage()}");
        Console.WriteLine();
        return true;
    }

    /// <summary>
    /// Where the time went, second by second from the leechers' process start: what the seeder had
    /// uploaded (in files' worth) and how much of the file the leechers held (all of them together,
    /// and the one furthest behind). Also the time from the seeder's first upload to the end, labelled as such.
    /// </summary>
    private static void PrintTimeline(string seederFile, string swarmFile, long startedUnixMs, long size, double bound)
    {
        static List<(double T, long[] Have, long[] Up, int Pieces, long[] Peers)> Read(string file, long origin) =>
            !File.Exists(file) ? [] : File.ReadLines(file).Select(line =>
            {
                using var doc = System.Text.Json.JsonDocument.Parse(line);
                var root = doc.RootElement;
                long[] Values(string name) => root.TryGetProperty(name, out var v) ? v.EnumerateArray().Select(e => e.GetInt64()).ToArray() : [];
                return ((root.GetProperty("unixMs").GetInt64() - origin) / 1000.0, Values("have"), Values("up"), root.GetProperty("pieces").GetInt32(), Values("peers"));
            }).ToList();
        var seeder = Read(seederFile, startedUnixMs);
        var swarm = Read(swarmFile, startedUnixMs);
        if (swarm.Count == 0 || seeder.Count == 0) return;
        long SeederUpAt(double t) => seeder.LastOrDefault(s => s.T <= t).Up?.Sum() ?? 0;
        var upBefore = SeederUpAt(0);
        Console.WriteLine("  timeline (t from the leechers' process start; the seeder's upload since then in files' worth; the leechers' " +
                          "upload rate, all together, and their share of the file):");
        for (var k = 0; k < swarm.Count; k++)
        {
            var (t, have, up, pieces, peers) = swarm[k];
            var slowest = Array.IndexOf(have, have.Min());
            var rate = k == 0 ? 0 : (up.Sum() - swarm[k - 1].Up.Sum()) / (t - swarm[k - 1].T) / (1 << 20);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    t={t,5:F1} s  seeder ↑ {(double)(SeederUpAt(t) - upBefore) / size:F2} F  leechers ↑ {rate,5:F1} MiB/s  hold {(double)have.Sum() / (have.Length * pieces),4:P0} (slowest {have.Min()}/{pieces}, {(peers.Length > slowest ? peers[slowest] : 0)} peers)"));
        }
        var firstUp = seeder.FirstOrDefault(s => s.Up.Sum() > upBefore);
        var end = swarm[^1].T;
        if (firstUp.Up is not null)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  from the seeder's first upload seen (t={firstUp.T:F1} s; its figures are pushed and polled each second, so this is up to 2 s late " +
                  $"and the ratio an underestimate) to the last leecher done (t={end:F1} s): {end - firstUp.T:F1} s = {(end - firstUp.T) / bound:F2} × the bound"));
    }

    private static string Ratio(Dictionary<string, List<CpuTime>> cpu)
    {
        var (ours, aria2) = (CpuMedians.Of(cpu["ours"]), CpuMedians.Of(cpu["aria2"]));
        return string.Create(CultureInfo.InvariantCulture,
            $"{ours.Total / aria2.Total:F2}× in total, {ours.User / aria2.User:F2}× in user time, {ours.System / aria2.System:F2}× in system time");
    }

    /// <summary>
    /// Gives every leecher the same start: no writeback in progress and memory that was just in use.
    /// In this virtual machine a copy into the page cache costs far more in two cases, both measured
    /// by hand with the same 1 GiB of <c>pwrite</c>s and with our leecher:
    /// <list type="bullet">
    /// <item>memory not used lately (the host takes back what the guest frees): 0.2–0.3 s of system
    /// time right after another process freed 1 GiB, 1.9–3.6 s after a pause;</item>
    /// <item>writeback under way (earlier files still being flushed to disk): our leecher took
    /// 1.5–2.1 s of system time with 2 GiB dirty when it started, 0.9 s with none.</item>
    /// </list>
    /// So it flushes what earlier steps wrote (the seeds, the previous outputs), then writes a file
    /// of the download's size and deletes it at once. That takes what ran before out of the
    /// comparison as far as it can; it did not bring our leecher's system time in the runner down
    /// to the by-hand figure (src/Actors.Torrent/Peer/README.md), so read the user time.
    /// </summary>
    private static void SettleMemory(string dir, long size)
    {
        Sync();
        var path = Path.Combine(dir, "page-cache-churn.bin");
        var buffer = new byte[1 << 20];
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1))
            for (long written = 0; written < size; written += buffer.Length)
                file.Write(buffer, 0, (int)Math.Min(buffer.Length, size - written));
        File.Delete(path);
    }

    [DllImport("libc", EntryPoint = "sync")]
    private static extern void Sync();

    private static void WriteRandom(string path, long size)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20);
        var buffer = new byte[4 << 20];
        for (long written = 0; written < size; written += buffer.Length)
        {
            RandomNumberGenerator.Fill(buffer);
            file.Write(buffer, 0, (int)Math.Min(buffer.Length, size - written));
        }
    }

    [GeneratedRegex(@"(\d+) ms, cpu (\d+) ms")]
    private static partial Regex Timing();

    [GeneratedRegex(@"^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$", RegexOptions.Multiline)]
    private static partial Regex TimesLine();

    [GeneratedRegex(@"↑ [^(]*\(([\d.]+) MiB\)")]
    private static partial Regex SeederUpload();

    [GeneratedRegex(@"8:completei(\d+)e")]
    private static partial Regex CompleteCount();

    /// <summary>Starts the processes of this scenario.</summary>
    private sealed class Lab(string actorsDll, string aria2, CancellationToken cancel)
    {
        public CancellationToken Cancel => cancel;

        /// <param name="timed">Run it under bash, whose <c>times</c> then reports the CPU it used (<see cref="ChildrenCpuTime"/>).</param>
        public ChildProcess Actors(string name, string[] args, bool timed = false) =>
            Start(name, "dotnet", [actorsDll, .. args], Path.GetDirectoryName(actorsDll), timed);

        /// <param name="timed">As for <see cref="Actors"/>.</param>
        public ChildProcess Aria2(string name, string[] args, bool timed = false) =>
            Start(name, aria2,
            [
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                $"--listen-port={Ports.FindFree()}", "--console-log-level=warn", "--summary-interval=0",
                "--file-allocation=none", "--allow-overwrite=true", "--bt-tracker-interval=2", .. args,
            ], workingDirectory: null, timed);

        // bash's `times` prints its own and its children's user and system time, from the rusage
        // wait(2) returns: exact for a process that exits, where /proc is gone the moment it does.
        private static ChildProcess Start(string name, string file, string[] args, string? workingDirectory, bool timed) =>
            timed
                ? ChildProcess.Start(name, "bash", ["-c", "\"$0\" \"$@\"; status=$?; times >&2; exit $status", file, .. args], workingDirectory)
                : ChildProcess.Start(name, file, args, workingDirectory);

        /// <summary>CPU seconds (user and system) of a process started with <c>timed</c>, once it exited; null when bash did not report them.</summary>
        public static CpuTime? ChildrenCpuTime(ChildProcess process)
        {
            // `times` prints two lines, "0m0.003s 0m0.001s" (the shell), then the children's.
            var lines = TimesLine().Matches(process.StandardError);
            if (lines.Count < 2) return null;
            var children = lines[^1];
            return new CpuTime(Seconds(children.Groups[1].Value, children.Groups[2].Value), Seconds(children.Groups[3].Value, children.Groups[4].Value));

            static double Seconds(string minutes, string seconds) =>
                int.Parse(minutes, CultureInfo.InvariantCulture) * 60 + double.Parse(seconds, CultureInfo.InvariantCulture);
        }

        public async Task<(string Path, string InfoHash)> CreateTorrentAsync(string file, string announce, int pieceLength, string dir)
        {
            var path = Path.Combine(dir, Path.GetFileName(file) + ".torrent");
            var result = await CommandRunner.RunAsync("dotnet",
                [actorsDll, "torrent", "create", file, "--tracker", announce, "--piece-length", $"{pieceLength}", "-o", path],
                TimeSpan.FromMinutes(3), cancel, Path.GetDirectoryName(actorsDll));
            if (!result.Succeeded) throw new SetupException($"actors torrent create failed: {result.Describe()}");
            var match = Regex.Match(result.StandardOutput, "[0-9a-fA-F]{40}");
            if (!match.Success) throw new SetupException($"no info-hash in: {result.StandardOutput}");
            return (path, match.Value);
        }

        /// <summary>Waits until our tracker's scrape of this info-hash counts enough seeders.</summary>
        public async Task AwaitSeedersAsync(int trackerPort, string infoHashHex, int seeders, TimeSpan timeout, ChildProcess peer)
        {
            var hash = Convert.FromHexString(infoHashHex);
            var query = string.Concat(hash.Select(b => $"%{b:X2}"));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                var scrape = Encoding.Latin1.GetString(await http.GetByteArrayAsync($"http://127.0.0.1:{trackerPort}/scrape?info_hash={query}", cancel));
                var match = CompleteCount().Match(scrape);
                if (match.Success && int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) >= seeders) return;
                if (peer.HasExited || DateTime.UtcNow > deadline)
                    throw new SetupException($"{peer.Name} never became a seeder:\n{peer.RecentOutput}");
                await Task.Delay(200, cancel);
            }
        }
    }
}
