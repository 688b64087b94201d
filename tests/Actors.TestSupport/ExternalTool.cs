using Xunit;

namespace Actors.TestSupport;

/// <summary>Runs a real command-line tool to completion, with a timeout, failing the test when it fails.</summary>
public static class ExternalTool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static bool IsInstalled(string tool) => Tools.IsInstalled(tool);

    /// <summary>Runs <paramref name="tool"/> and returns its standard output; fails the test on a non-zero exit or a timeout.</summary>
    public static string Run(string tool, string workingDirectory, params string[] arguments) =>
        Run(tool, workingDirectory, Timeout, arguments);

    public static string Run(string tool, string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var result = ProcessRunner.Run(tool, arguments, timeout, workingDirectory);
        var command = $"{tool} {string.Join(' ', arguments)}";
        if (result.TimedOut) Assert.Fail($"{command} did not finish within {timeout.TotalSeconds} s.");
        Assert.True(result.ExitCode == 0, $"{command} exited with {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout;
    }
}
