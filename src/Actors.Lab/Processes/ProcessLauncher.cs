using System.Diagnostics;

namespace Actors.Lab.Processes;

/// <summary>
/// Starts a manifest's command through sh, output appended to its log, as run-cluster does: the
/// lab's restart, the scenario runner and the swarm sweep all start processes this one way.
/// </summary>
public static class ProcessLauncher
{
    /// <summary>Starts the command; returns the manifest with the new process's pid and start time.</summary>
    public static NodeManifest Start(NodeManifest manifest)
    {
        var (started, process) = StartWatched(manifest);
        process.Dispose();
        return started;
    }

    /// <summary>
    /// As <see cref="Start"/>, and the <see cref="Process"/> too, for a parent that wants the exit
    /// code (the lab after a restart: a node whose role fails exits 1). The caller disposes it.
    /// </summary>
    public static (NodeManifest Manifest, Process Process) StartWatched(NodeManifest manifest)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            WorkingDirectory = manifest.Cwd.Length > 0 ? manifest.Cwd : Directory.GetCurrentDirectory(),
        };
        // sh -c 'exec "$@" >>"$0" 2>&1' LOG COMMAND...: no quoting of the command line needed, and
        // exec makes the pid we record the actors process itself, so the lab's signals reach it.
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" >>\"$0\" 2>&1 </dev/null");
        start.ArgumentList.Add(manifest.Log.Length > 0 ? manifest.Log : "/dev/null");
        foreach (var arg in manifest.Command) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new IOException("the process did not start");
        process.StandardInput.Close();
        return (manifest with { Pid = process.Id, Started = Posix.StartTime(process.Id) }, process);
    }
}
