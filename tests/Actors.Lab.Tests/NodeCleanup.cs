using Actors.Lab.Processes;

namespace Actors.Lab.Tests;

/// <summary>
/// Kills what a test's nodes left running, whatever the test's outcome. Only through a manifest
/// with a start time, which <see cref="NodeManifest.Signal"/> checks: a node that ended leaves its
/// pid behind, and on this machine (pid_max 32,768, thousands of processes and threads per run)
/// another test's process may hold that pid minutes later. A manifest without a start time proves
/// nothing and is left alone.
/// </summary>
public static class NodeCleanup
{
    /// <summary>Every manifest in every folder named "nodes" below <paramref name="root"/> (runs, bundles).</summary>
    public static void KillNodesBelow(string root)
    {
        if (!Directory.Exists(root)) return;
        KillNodesIn(Directory.EnumerateDirectories(root, "nodes", SearchOption.AllDirectories));
    }

    public static void KillNodesIn(IEnumerable<string> manifestFolders)
    {
        foreach (var folder in manifestFolders)
            foreach (var manifest in new ManifestStore(folder).ReadAll().Where(m => m.Started != 0))
                manifest.Signal("KILL");
    }
}
