using System.Diagnostics;

namespace Actors.TestSupport;

/// <summary>Starts a real client we did not write (aria2c, transmission-cli, ...) with its output drained.</summary>
public static class ToolProcess
{
    /// <summary>The caller kills and disposes the process (tests keep a list and do it in Dispose).</summary>
    public static Process Start(string tool, IEnumerable<string> args, string workingDirectory, IDictionary<string, string>? environment = null)
    {
        Tools.Require(tool);
        var start = new ProcessStartInfo(tool)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start)!;
        // Drained so a chatty tool never blocks on a full pipe; the tests read the tools' log files.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Kills (with its children) and disposes each process a test started.</summary>
    public static void StopAll(IEnumerable<Process> processes)
    {
        foreach (var p in processes)
        {
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            try { p.WaitForExit(5000); } catch (InvalidOperationException) { }
            p.Dispose();
        }
    }
}
