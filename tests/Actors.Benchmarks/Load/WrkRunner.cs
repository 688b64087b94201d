using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Load;

/// <summary>How hard wrk pushes: the same for every server in a scenario, so ratios are fair.</summary>
public sealed record WrkLoad(int Threads, int Connections, TimeSpan Duration, string? LuaScript = null, string? Header = null)
{
    /// <summary>How the load reads in a report: "-t2 -c64" plus the header, if any.</summary>
    public string Describe() => $"-t{Threads} -c{Connections}" + (Header is null ? "" : $" -H '{Header}'");
}

/// <summary>Runs wrk and parses its report.</summary>
public sealed class WrkRunner(string wrkPath)
{
    /// <summary>One wrk run against one URL. Throws when wrk fails or prints no figures.</summary>
    public async Task<WrkResult> RunAsync(string url, WrkLoad load, CancellationToken cancellationToken)
    {
        var arguments = new List<string>
        {
            "-t", load.Threads.ToString(),
            "-c", load.Connections.ToString(),
            "-d", $"{Math.Max(1, (int)Math.Round(load.Duration.TotalSeconds))}s",
        };
        if (load.Header is not null)
        {
            arguments.AddRange(["-H", load.Header]);
        }
        if (load.LuaScript is not null)
        {
            arguments.AddRange(["-s", load.LuaScript]);
        }
        arguments.Add(url);

        // Generous bound: wrk stops itself after the duration; this only catches a hang.
        var timeout = load.Duration + TimeSpan.FromSeconds(30);
        var result = await CommandRunner.RunAsync(wrkPath, arguments, timeout, cancellationToken);
        var parsed = result.Succeeded ? WrkResult.Parse(result.StandardOutput) : null;
        return parsed ?? throw new InvalidOperationException($"wrk {url} failed: {result.Describe()}");
    }

    /// <summary>
    /// Loads several endpoints at once (the nodes of one logical service), splitting threads and
    /// connections between them, and adds the results up. With one endpoint this is a plain run.
    /// </summary>
    public async Task<WrkResult> RunAcrossAsync(IReadOnlyList<string> urls, WrkLoad load, CancellationToken cancellationToken)
    {
        if (urls.Count == 1)
        {
            return await RunAsync(urls[0], load, cancellationToken);
        }
        var share = load with
        {
            Threads = Math.Max(1, load.Threads / urls.Count),
            Connections = Math.Max(1, load.Connections / urls.Count),
        };
        var parts = await Task.WhenAll(urls.Select(url => RunAsync(url, share, cancellationToken)));
        return WrkResult.Sum(parts);
    }
}
