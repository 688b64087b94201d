using System.Text;
using Actors.Benchmarks.Load;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// Static files over HTTP/1.1: requests/s and requests per server CPU-second for a small file
/// (wrk: keep-alive and a connection per request, each with one and two load threads), and MB/s
/// for a 1 GiB file (curl), for ours, Kestrel and nginx serving the same directory on loopback.
/// </summary>
public sealed class WebScenario(BenchOptions options, Tools tools)
{
    private const string SmallFile = "small.html";
    private const int SmallFileSize = 1024;
    private const string LargeFile = "large.bin";
    private const long LargeFileSize = 1L << 30;
    private const string DownloadRate = "MB/s";

    // Keep-alive and a connection per request (how trackers and most API clients are used), each
    // with one load thread (wrk leaves a core to the server) and with two (the server competes).
    private static readonly WrkLoad[] Loads =
    [
        new(Threads: 1, Connections: 50, Duration: TimeSpan.Zero),
        new(Threads: 2, Connections: 64, Duration: TimeSpan.Zero),
        new(Threads: 1, Connections: 50, Duration: TimeSpan.Zero, Header: "Connection: close"),
        new(Threads: 2, Connections: 64, Duration: TimeSpan.Zero, Header: "Connection: close"),
    ];
    private static readonly WrkLoad Load = Loads[1];

    private static string RequestRate(WrkLoad load) => $"req/s {load.Describe()}";

    // Requests per CPU-second of the server's processes: wall-clock rates on a shared machine
    // swing with the neighbours' load, the CPU a request costs much less.
    private static string RequestsPerCpuSecond(WrkLoad load) => $"req/cpu-s {load.Describe()}";
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

            foreach (var shape in Loads)
            {
                var load = shape with { Duration = options.Duration };
                Console.WriteLine($"requests/s and per server CPU-second: wrk {load.Describe()} -d{options.Duration.TotalSeconds:0}s /{SmallFile}");
                await Targets.AlternateAsync(runs, options.Rounds, "wrk", async (run, round) =>
                {
                    var cpuBefore = run.Server!.CpuSeconds();
                    var result = await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/" + SmallFile), load, cancellationToken);
                    var cpu = run.Server!.CpuSeconds() - cpuBefore;
                    var perCpuSecond = cpu > 0 ? result.Requests / cpu : double.NaN;
                    run.AddSample(RequestRate(load), result.RequestsPerSecond);
                    if (!double.IsNaN(perCpuSecond))
                    {
                        run.AddSample(RequestsPerCpuSecond(load), perCpuSecond);
                    }
                    if (result.HasErrors)
                    {
                        run.Flag($"wrk {load.Describe()} round {round + 1}: {result.DescribeErrors()}");
                    }
                    Console.WriteLine($"  round {round + 1} {run.Name,-8} {result.RequestsPerSecond,12:N0} req/s  {perCpuSecond,9:N0} req/CPU-s ({cpu:F2} CPU s)  avg latency {result.LatencyAverageMs:0.00} ms  {result.DescribeErrors()}");
                }, cancellationToken);
            }

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
                await tools.Wrk.RunAcrossAsync(run.Server!.UrlsFor("/" + SmallFile), warmUp with { Header = "Connection: close" }, cancellationToken);
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
        var ours = runs.Single(r => r.Name == "ours");
        var references = runs.Where(r => r != ours).ToList();
        string[] headers = ["metric (median)", .. runs.Select(r => r.Name), .. references.Select(r => $"ours/{r.Name}")];
        var table = new ResultTable(headers);
        foreach (var metric in Loads.SelectMany(l => new[] { RequestRate(l), RequestsPerCpuSecond(l) }).Append(DownloadRate))
        {
            string[] cells =
            [
                metric,
                .. runs.Select(r => ResultTable.Number(r.Median(metric))),
                .. references.Select(r => ResultTable.Ratio(Stats.Ratio(ours.Median(metric), r.Median(metric)))),
            ];
            table.Add(cells);
        }
        table.Print();
        Console.WriteLine();
        foreach (var run in runs)
        {
            var status = !run.IsAvailable ? "not available" : run.Problems.Count > 0 ? "FLAGGED" : "ok";
            Console.WriteLine($"{run.Name}: {status}");
        }
        Console.WriteLine();
        Targets.PrintUnavailableAndProblems(runs);
    }
}
