using System.Diagnostics;

namespace Actors.Host.Tests;

/// <summary>
/// One run of the <c>actors</c> binary to its end, with stdout and stderr kept apart (the failure
/// policy promises its line on stderr). Bounded: a run still going after the timeout is killed
/// and reported as such. For the failure-policy and data-safety tests.
/// </summary>
public sealed record FailureRun(int? ExitCode, string[] Stdout, string[] Stderr, TimeSpan Elapsed)
{
    public static Task<FailureRun> Of(TimeSpan timeout, params string[] args) => Of(timeout, null, args);

    /// <param name="onStdoutLine">Called with each stdout line as it comes (e.g. to act once the role is up).</param>
    public static async Task<FailureRun> Of(TimeSpan timeout, Action<string>? onStdoutLine, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(ActorsProcess.ActorsDll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = ReadLines(process.StandardOutput, onStdoutLine);
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        int? exit;
        try
        {
            await process.WaitForExitAsync(cts.Token);
            exit = process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            exit = null; // still running at the deadline
        }
        var elapsed = clock.Elapsed;
        return new FailureRun(exit, await stdout, Lines(await stderr), elapsed);
    }

    private static async Task<string[]> ReadLines(StreamReader reader, Action<string>? onLine)
    {
        var lines = new List<string>();
        for (var line = await reader.ReadLineAsync(); line is not null; line = await reader.ReadLineAsync())
        {
            lines.Add(line);
            onLine?.Invoke(line);
        }
        return lines.ToArray();
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    /// <summary>The lines the policy prints: <c>actors ROLE: …</c>.</summary>
    public string[] PolicyLines(string role) => Stderr.Where(l => l.StartsWith($"actors {role}: ", StringComparison.Ordinal)).ToArray();

    public bool HasStackTrace => Stdout.Concat(Stderr).Any(l => l.StartsWith("   at ", StringComparison.Ordinal) || l.Contains("Unhandled exception", StringComparison.Ordinal));

    public override string ToString() =>
        $"exit {(ExitCode?.ToString() ?? "none (killed at the deadline)")} after {Elapsed.TotalSeconds:F1} s\n--- stderr\n{string.Join('\n', Stderr)}\n--- stdout\n{string.Join('\n', Stdout.TakeLast(40))}";
}
