using System.Globalization;
using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Load;

/// <summary>One download as curl saw it. Speed is curl's average over the whole transfer.</summary>
public sealed record Download(double BytesPerSecond, int StatusCode, long Size)
{
    public double MegabytesPerSecond => BytesPerSecond / 1_000_000;
}

/// <summary>Downloads with curl (a real, widely used client) to /dev/null and reports its speed.</summary>
public sealed class CurlDownloader(string curlPath)
{
    public async Task<Download> DownloadAsync(string url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            "-s", "-o", "/dev/null",
            "--max-time", ((int)timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            "-w", "%{speed_download} %{http_code} %{size_download}",
            url,
        ];
        var result = await CommandRunner.RunAsync(curlPath, arguments, timeout + TimeSpan.FromSeconds(10), cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"curl {url} failed: {result.Describe()}");
        }
        var fields = result.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length != 3
            || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var speed)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status)
            || !long.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var size))
        {
            throw new InvalidOperationException($"curl {url}: unexpected output '{result.StandardOutput}'");
        }
        return new Download(speed, status, size);
    }

    /// <summary>Fetches a small body as text, e.g. to check that a server answers before loading it.</summary>
    public async Task<(int StatusCode, string Body)> GetAsync(string url, CancellationToken cancellationToken)
    {
        string[] arguments = ["-s", "--max-time", "10", "-w", "\n%{http_code}", url];
        var result = await CommandRunner.RunAsync(curlPath, arguments, TimeSpan.FromSeconds(20), cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"curl {url} failed: {result.Describe()}");
        }
        var output = result.StandardOutput;
        var split = output.LastIndexOf('\n');
        if (!int.TryParse(output[(split + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new InvalidOperationException($"curl {url}: no status code in its output");
        }
        return (status, split < 0 ? "" : output[..split]);
    }
}
