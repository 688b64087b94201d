using System.Text;
using Actors.Benchmarks.Load;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// Static files over HTTP/1.1: requests/s for a small file (wrk) and MB/s for a 1 GiB file
/// (curl), for ours, Kestrel and nginx serving the same directory on loopback.
/// </summary>
public sealed class WebScenario(BenchOptions options, Tools tools)
{
    private const string SmallFile = "small.html";
    private const int SmallFileSize = 1024;
    private const string LargeFile = "large.bin";
    private const long LargeFileSize = 1L << 30;
    private const string RequestRate = "req/s";
    private const string DownloadRate = "MB/s";

    // wrk -t2 -c64, as in the brief: two load threads on a two-core machine, enough connections
    // to keep every server busy.
    private static readonly WrkLoad Load = new(Threads: 2, Connections: 64, Duration: TimeSpan.Zero);
    private static readonly TimeSpan DownloadTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Returns true when every server ran and measured cleanly.</summary>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("web", options.Duration, options.Rounds);
        using var temp = TempDirectory.Create("actors-bench-web-");
        var root = CreateDocumentRoot(temp);
        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancellationToken);

        List<TargetRun> runs =
        [
            new("ours", ct => actors.StartWebAsync(root, ct)),
            new("kestrel", ct => KestrelServer.StartAsync(root, ct)),
            new("nginx", ct => NginxServer.StartAsync(temp, root, ct)),
        ];
        try
        {
            await Targets.StartAllAsync(runs, cancellationToken);
            foreach (var run in runs.Where(r => r.IsAvailable))
            {
                await VerifyAsync(run, cancellationToken);
            }
            await WarmUpAsync(runs, cancellationToken);

            var load = Load with { Duration = options.Duration };
            Console.WriteLine($"requests/s: wrk -t{load.Threads} -c{load.Connections} -d{options.Duration.TotalSeconds:0}s /{SmallFile}");
            await Targets.AlternateAsync(runs, options.Rounds, "wrk", async (run, round) =>
            {
                var result = await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/" + SmallFile), load, cancellationToken);
                run.AddSample(RequestRate, result.RequestsPerSecond);
                if (result.HasErrors)
                {
                    run.Flag($"wrk round {round + 1}: {result.DescribeErrors()}");
                }
                Console.WriteLine($"  round {round + 1} {run.Name,-8} {result.RequestsPerSecond,12:N0} req/s  avg latency {result.LatencyAverageMs:0.00} ms  {result.DescribeErrors()}");
            }, cancellationToken);

            Console.WriteLine($"MB/s: curl download of /{LargeFile} ({LargeFileSize:N0} bytes, sparse file), MB = 10^6 bytes");
            await Targets.AlternateAsync(runs, options.Rounds, "download", async (run, round) =>
            {
                var download = await tools.Curl.DownloadAsync(run.Server!.BaseUrls[0] + "/" + LargeFile, DownloadTimeout, cancellationToken);
                var valid = download.StatusCode == 200 && download.Size == LargeFileSize;
                if (valid)
                {
                    run.AddSample(DownloadRate, download.MegabytesPerSecond);
                }
                else
                {
                    run.Flag($"download round {round + 1}: HTTP {download.StatusCode}, {download.Size:N0} bytes (expected 200, {LargeFileSize:N0})");
                }
                Console.WriteLine($"  round {round + 1} {run.Name,-8} {download.MegabytesPerSecond,12:N0} MB/s  HTTP {download.StatusCode}, {download.Size:N0} bytes{(valid ? "" : "  INVALID")}");
            }, cancellationToken);

            PrintSummary(runs);
            return Targets.AllClean(runs);
        }
        finally
        {
            foreach (var run in runs)
            {
                run.Dispose();
            }
        }
    }

    /// <summary>
    /// The small file is real HTML; the large one is sparse (instant to create, no disk space,
    /// reads back as zeros from the page cache — the same for all three servers).
    /// </summary>
    private static string CreateDocumentRoot(TempDirectory temp)
    {
        var root = temp.CreateSubdirectory("www");
        const string head = "<!doctype html><html><head><title>small</title></head><body><p>";
        const string tail = "</p></body></html>\n";
        var body = new StringBuilder(head)
            .Append('x', SmallFileSize - head.Length - tail.Length)
            .Append(tail)
            .ToString();
        TempDirectory.WriteText(Path.Combine(root, SmallFile), body);
        TempDirectory.CreateSparse(Path.Combine(root, LargeFile), LargeFileSize);
        return root;
    }

    /// <summary>A server that starts but serves the wrong thing is not measured.</summary>
    private async Task VerifyAsync(TargetRun run, CancellationToken cancellationToken)
    {
        try
        {
            var (status, body) = await tools.Curl.GetAsync(run.Server!.BaseUrls[0] + "/" + SmallFile, cancellationToken);
            if (status != 200 || !body.StartsWith("<!doctype html>", StringComparison.Ordinal))
            {
                run.MarkUnavailable($"GET /{SmallFile} answered HTTP {status}, not the file");
            }
        }
        catch (InvalidOperationException e)
        {
            run.MarkUnavailable($"GET /{SmallFile} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Not measured: lets the .NET servers JIT and tier up both paths (small responses and a
    /// large body) so round 1 is not a cold start; a cold 1 GiB download ran at a fifth of the
    /// warm speed here.
    /// </summary>
    private async Task WarmUpAsync(IReadOnlyList<TargetRun> runs, CancellationToken cancellationToken)
    {
        var warmUp = Load with { Duration = TimeSpan.FromSeconds(Math.Min(3, options.Duration.TotalSeconds)) };
        foreach (var run in runs.Where(r => r.IsAvailable))
        {
            try
            {
                await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/" + SmallFile), warmUp, cancellationToken);
                await tools.Curl.DownloadAsync(run.Server!.BaseUrls[0] + "/" + LargeFile, DownloadTimeout, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                run.MarkUnavailable($"warm-up failed: {e.Message}");
            }
        }
    }

    private static void PrintSummary(IReadOnlyList<TargetRun> runs)
    {
        Console.WriteLine();
        var table = new ResultTable("server", "req/s (median)", "MB/s (median)", "status");
        foreach (var run in runs)
        {
            var status = !run.IsAvailable ? "not available" : run.Problems.Count > 0 ? "FLAGGED" : "ok";
            table.Add(run.Name, ResultTable.Number(run.Median(RequestRate)), ResultTable.Number(run.Median(DownloadRate)), status);
        }
        table.Print();
        Console.WriteLine();

        var ours = runs.Single(r => r.Name == "ours");
        foreach (var reference in runs.Where(r => r != ours))
        {
            var requests = Stats.Ratio(ours.Median(RequestRate), reference.Median(RequestRate));
            var download = Stats.Ratio(ours.Median(DownloadRate), reference.Median(DownloadRate));
            Console.WriteLine($"ours/{reference.Name}: req/s {ResultTable.Ratio(requests)}, MB/s {ResultTable.Ratio(download)}");
        }
        Console.WriteLine();
        Targets.PrintUnavailableAndProblems(runs);
    }
}
