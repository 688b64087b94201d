using System.Diagnostics;
using System.Globalization;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// Scenario `swarm`: many of our peers on one machine. N leechers in P processes
/// (<c>actors peer get --count N/P</c>) start with no seeder and sit idle, which gives memory
/// (RSS) and CPU per idle peer and the sockets they hold; then one capped seeder starts, and the
/// time until every leecher process has exited 0 is compared with the lower bound, with each
/// process's peak RSS, peak sockets and CPU seconds.
/// </summary>
public sealed partial class PeerScenario
{
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(10);

    public async Task<bool> RunScaleAsync(CancellationToken cancel)
    {
        Machine.PrintHeader("swarm", options.Duration, options.Rounds);
        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancel);
        if (actors.ActorsDll is null) throw new SetupException("actors.dll not available; pass --actors PATH");
        var lab = new Lab(actors.ActorsDll, "aria2c", cancel);
        using var temp = TempDirectory.Create("actors-bench-swarm-");
        var trackerPort = Ports.FindFree();
        using var tracker = lab.Actors("tracker", ["tracker", "--port", $"{trackerPort}", "--host", "127.0.0.1", "--min-interval", "2s"]);
        if (await Ports.WaitUntilListeningAsync(trackerPort, tracker, TimeSpan.FromSeconds(30), cancel) is { } why)
            throw new SetupException($"our tracker did not start: {why}\n{tracker.RecentOutput}");
        var announce = $"http://127.0.0.1:{trackerPort}/announce";

        var n = options.Peers;
        var idleSettle = TimeSpan.FromSeconds(options.IdleSettleSeconds);
        var processes = Math.Min(options.Processes, n);
        var size = (long)options.SwarmSizeMiB * 1024 * 1024;
        var cap = (long)options.UploadCapKiB * 1024;
        var bound = Math.Max((double)size / cap, (double)n * size / (cap + n * cap));
        Console.WriteLine($"swarm: {n} leechers in {processes} process(es), then 1 seeder; {options.SwarmSizeMiB} MiB in {SwarmPieceLength / 1024} KiB pieces, " +
                          $"every upload capped at {options.UploadCapKiB} KiB/s; lower bound {bound:F1} s");
        var seedDir = temp.CreateSubdirectory("seed");
        WriteRandom(Path.Combine(seedDir, "swarm.bin"), size);
        var torrent = await lab.CreateTorrentAsync(Path.Combine(seedDir, "swarm.bin"), announce, SwarmPieceLength, temp.Path);

        var leechers = new List<(ChildProcess Process, int Count, Sampler Sampler)>();
        try
        {
            var baseline = Stopwatch.StartNew();
            for (var p = 0; p < processes; p++)
            {
                var count = n / processes + (p < n % processes ? 1 : 0);
                var outDir = temp.CreateSubdirectory($"out-{p}");
                var process = lab.Actors($"leechers {p}", ["peer", "get", torrent.Path, "--out", outDir, "--host", "127.0.0.1",
                    "--count", $"{count}", "--max-up", $"{cap}"]);
                leechers.Add((process, count, new Sampler(process)));
            }
            // Idle: everyone announced and connected to whoever it found; nobody has anything.
            await Task.Delay(idleSettle, cancel);
            var idleBefore = leechers.Select(l => ProcessCpu.Seconds(l.Process.Id)).ToArray();
            await Task.Delay(IdleWindow, cancel);
            var idleCpu = leechers.Select((l, i) => ProcessCpu.Seconds(l.Process.Id) - idleBefore[i]).Sum();
            var idleRss = leechers.Sum(l => Sampler.RssKiB(l.Process.Id));
            var idleSockets = leechers.Sum(l => Sampler.Sockets(l.Process.Id));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  idle ({idleSettle.TotalSeconds + IdleWindow.TotalSeconds:F0} s after start, no seeder): RSS {idleRss / 1024.0:F0} MiB = {(double)idleRss / n:F0} KiB per peer; " +
                $"{idleSockets} sockets ({(double)idleSockets / n:F1} per peer); CPU {100 * idleCpu / IdleWindow.TotalSeconds:F1} % of one core " +
                $"({1000 * idleCpu / IdleWindow.TotalSeconds / n:F2} ms/s per peer)"));

            using var seeder = lab.Actors("seeder", ["peer", "seed", torrent.Path, "--data", seedDir, "--host", "127.0.0.1", "--max-up", $"{cap}"]);
            var watch = Stopwatch.StartNew();
            var deadline = TimeSpan.FromSeconds(Math.Max(bound * 20, n * 0.2) + 120); // thousands of peers take minutes to meet
            var exits = await Task.WhenAll(leechers.Select(l => l.Process.WaitForExitAsync(deadline, cancel)));
            watch.Stop();
            var clean = true;
            for (var p = 0; p < leechers.Count; p++)
            {
                var (process, count, sampler) = leechers[p];
                var cpu = Timing().Match(process.StandardOutput) is { Success: true } m ? double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) / 1000 : double.NaN;
                var ok = exits[p] && process.ExitCode == 0;
                clean &= ok;
                var warnings = process.StandardError.Split('\n').Count(l => l.Contains("WARN", StringComparison.Ordinal) || l.Contains("ERROR", StringComparison.Ordinal));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  process {p}: {count} peers, {(ok ? "exit 0" : exits[p] ? $"exit {process.ExitCode}" : "timed out")}; peak RSS {sampler.PeakRssKiB / 1024.0:F0} MiB " +
                    $"({(double)sampler.PeakRssKiB / count:F0} KiB per peer), peak {sampler.PeakSockets} sockets, CPU {cpu:F1} s, {warnings} warning/error lines"));
                if (!ok) Console.WriteLine(process.RecentOutput);
            }
            Console.WriteLine(clean
                ? string.Create(CultureInfo.InvariantCulture, $"  all {n} complete {watch.Elapsed.TotalSeconds:F1} s after the seeder started; ratio to the lower bound = {watch.Elapsed.TotalSeconds / bound:F2}")
                : string.Create(CultureInfo.InvariantCulture, $"  swarm FAILED after {watch.Elapsed.TotalSeconds:F1} s"));
            Console.WriteLine();
            return clean;
        }
        finally
        {
            foreach (var (process, _, sampler) in leechers)
            {
                sampler.Dispose();
                process.Dispose();
            }
        }
    }

    /// <summary>Samples a process's RSS and open sockets twice a second (Linux /proc).</summary>
    private sealed class Sampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public long PeakRssKiB { get; private set; }
        public int PeakSockets { get; private set; }

        public Sampler(ChildProcess process)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested && !process.HasExited)
                {
                    PeakRssKiB = Math.Max(PeakRssKiB, RssKiB(process.Id));
                    PeakSockets = Math.Max(PeakSockets, Sockets(process.Id));
                    try { await Task.Delay(500, _stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        public static long RssKiB(int pid)
        {
            try
            {
                var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
            catch (IOException) { return 0; }
            catch (UnauthorizedAccessException) { return 0; }
        }

        public static int Sockets(int pid)
        {
            try
            {
                var count = 0;
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    try
                    {
                        if (new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true) count++;
                    }
                    catch (IOException) { } // closed while we looked
                }
                return count;
            }
            catch (IOException) { return 0; }
            catch (UnauthorizedAccessException) { return 0; }
        }

        public void Dispose()
        {
            _stop.Cancel();
            try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
            _stop.Dispose();
        }
    }
}
