using System.Diagnostics;
using Xunit;

namespace Actors.Torrent.Tests.Metainfo;

/// <summary>Runs a real command-line tool as a process, with a timeout.</summary>
public static class ExternalTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static bool IsInstalled(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    /// <summary>Runs <paramref name="tool"/> and returns its standard output; fails the test on a non-zero exit.</summary>
    public static string Run(string tool, string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{tool} {string.Join(' ', arguments)} did not finish within {Timeout.TotalSeconds} s.");
        }
        Task.WaitAll(output, error);
        Assert.True(process.ExitCode == 0,
            $"{tool} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Result}{output.Result}");
        return output.Result;
    }
}

/// <summary>A fact skipped, with a message saying what to install, when a tool is not on the PATH.</summary>
public sealed class FactRequiringToolsAttribute : FactAttribute
{
    public FactRequiringToolsAttribute(params string[] tools)
    {
        var missing = tools.Where(t => !ExternalTool.IsInstalled(t)).ToArray();
        if (missing.Length > 0)
        {
            Skip = $"Not installed: {string.Join(", ", missing)} (apt-get install -y mktorrent transmission-cli).";
        }
    }
}
