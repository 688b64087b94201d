namespace Actors.Benchmarks.Processes;

/// <summary>The outcome of a short command (wrk, curl, dotnet build) run to completion.</summary>
public sealed record CommandResult(int ExitCode, bool TimedOut, string StandardOutput, string StandardError)
{
    public bool Succeeded => !TimedOut && ExitCode == 0;

    public string Describe() => TimedOut
        ? "timed out"
        : $"exit code {ExitCode}: {StandardError.Trim()} {StandardOutput.Trim()}".Trim();
}

/// <summary>Runs load generators and helpers to completion, always bounded by a timeout.</summary>
public static class CommandRunner
{
    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        CancellationToken cancellationToken,
        string? workingDirectory = null)
    {
        using var child = ChildProcess.Start(Path.GetFileName(fileName), fileName, arguments, workingDirectory, keepLines: 10_000);
        var exited = await child.WaitForExitAsync(timeout, cancellationToken);
        return new CommandResult(exited ? child.ExitCode : -1, !exited, child.StandardOutput, child.StandardError);
    }

    /// <summary>
    /// Finds an executable on PATH. The sbin directories are searched too because nginx and
    /// opentracker live there and a non-root PATH often lacks them.
    /// </summary>
    public static string? Which(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]);
        return directories
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }
}
