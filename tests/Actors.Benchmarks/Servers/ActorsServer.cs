using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Tracker;

namespace Actors.Benchmarks.Servers;

/// <summary>
/// Our server, run as a separate process from its built `actors.dll` exactly as a user would:
/// `dotnet actors.dll web|tracker --port N --host 127.0.0.1 ...`.
/// </summary>
public sealed class ActorsServer(string? actorsDll, string? whyMissing)
{
    public string? ActorsDll { get; } = actorsDll;

    /// <summary>
    /// Resolves `--actors PATH`, or else publishes the repository's `actors` as run-cluster.sh does
    /// (Release, ReadyToRun: what a user runs) and takes that; the publish is incremental, a few
    /// seconds when nothing changed, and never leaves a stale build measured. Never throws: a
    /// missing server is reported, not fatal.
    /// </summary>
    public static async Task<ActorsServer> LocateAsync(string? explicitPath, CancellationToken cancellationToken)
    {
        if (explicitPath is not null)
        {
            var full = Path.GetFullPath(explicitPath);
            return File.Exists(full) ? new ActorsServer(full, null) : new ActorsServer(null, $"{full} does not exist");
        }

        var root = RepositoryRoot.Find();
        if (root is null)
        {
            return new ActorsServer(null, "repository root (Actors.sln) not found; pass --actors PATH");
        }
        var output = Path.Combine(root, "src", "Actors.Host", "bin", "ready-to-run");
        var dll = Path.Combine(output, "actors.dll");
        string[] publish = ["publish", "src/Actors.Host", "-c", "Release", "--use-current-runtime", "-o", output, "-nologo", "-v", "q"];
        Console.WriteLine($"ours: dotnet {string.Join(' ', publish)}");
        var build = await CommandRunner.RunAsync("dotnet", publish, TimeSpan.FromMinutes(10), cancellationToken, workingDirectory: root);
        if (!build.Succeeded || !File.Exists(dll))
        {
            var tail = string.Join('\n', build.StandardOutput.Split('\n').TakeLast(10));
            return new ActorsServer(null, $"publish of src/Actors.Host failed ({build.Describe().Split('\n')[0]}){Environment.NewLine}{tail}");
        }
        return new ActorsServer(dll, null);
    }

    public Task<RunningServer> StartWebAsync(string root, CancellationToken cancellationToken) =>
        // nginx and Kestrel run without an access log here, so ours does too.
        StartAsync("ours (web)", ["web", "--root", root, "--access-log", "off"], cancellationToken);

    public Task<RunningServer> StartTrackerAsync(CancellationToken cancellationToken) =>
        StartAsync("ours (tracker)", ["tracker"], cancellationToken);

    /// <summary>`actors peer seed TORRENT --data DIR`; its peer port is the port waited for.</summary>
    public Task<RunningServer> StartPeerSeedAsync(string torrent, string dataDirectory, CancellationToken cancellationToken) =>
        StartAsync("ours (peer seed)", ["peer", "seed", torrent, "--data", dataDirectory], cancellationToken);

    /// <summary>
    /// Two `actors tracker` nodes that know nothing of each other (each its own one-node cluster):
    /// the cost of running two nodes on one machine, without any replication, for the pair to be
    /// read against.
    /// </summary>
    public async Task<RunningServer> StartTwoLoneTrackersAsync(CancellationToken cancellationToken)
    {
        var nodes = new List<RunningServer>();
        try
        {
            foreach (var name in new[] { "ours 2 lone (node 1)", "ours 2 lone (node 2)" })
                nodes.Add(await StartAsync(name, ["tracker"], cancellationToken));
            return RunningServer.Combine(nodes);
        }
        catch
        {
            foreach (var node in nodes) node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Two `actors tracker` nodes in one cluster, ready when a peer announced to the first node is
    /// handed out by the second. Both join a third member, an `actors seed`, as run-cluster does:
    /// with two members, keep-majority SBR downs the survivor of a kill -9 whenever the killed
    /// node has the lower address (a tie goes to the lowest address), so the failover measurement
    /// would depend on port order. The seed is started and stopped with the pair but not measured.
    /// </summary>
    /// <param name="nodeOptions">Extra options for both tracker nodes (e.g. `--replication async`).</param>
    public async Task<RunningServer> StartTrackerPairAsync(CancellationToken cancellationToken, IReadOnlyList<string>? nodeOptions = null)
    {
        var seedPort = Ports.FindFree();
        var seed = await StartAsync("ours x2 (seed)", ["seed", "--cluster-port", seedPort.ToString(), "--cluster-host", "127.0.0.1"], seedPort, cancellationToken);
        var nodes = new List<RunningServer>();
        try
        {
            foreach (var name in new[] { "ours x2 (node 1)", "ours x2 (node 2)" })
                nodes.Add(await StartAsync(name,
                    ["tracker", .. nodeOptions ?? [], "--cluster-port", Ports.FindFree().ToString(), "--seed", $"127.0.0.1:{seedPort}"], cancellationToken));
            var pair = RunningServer.Combine(nodes, support: seed);
            await WaitUntilClusteredAsync(pair, cancellationToken);
            return pair;
        }
        catch
        {
            foreach (var node in nodes) node.Dispose();
            seed.Dispose();
            throw;
        }
    }

    private static async Task WaitUntilClusteredAsync(RunningServer pair, CancellationToken cancellationToken)
    {
        // A swarm of its own (not one of the load's), so the check adds no peers to the measured swarms.
        const string hash = "%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11%11";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + ServerProcess.ReadinessTimeout;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await http.GetStringAsync(pair.BaseUrls[0] + AnnounceScript.AnnouncePath(hash, "-BM0001-clusternode1", 6881), cancellationToken);
                var answer = await http.GetStringAsync(pair.BaseUrls[1] + AnnounceScript.AnnouncePath(hash, "-BM0001-clusternode2", 6882), cancellationToken);
                if (answer.StartsWith('d') && !answer.Contains("5:peers0:", StringComparison.Ordinal) && !answer.Contains("failure reason", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not joined yet (or still binding): try again.
            }
            await Task.Delay(250, cancellationToken);
        }
        throw new ServerUnavailableException($"the two tracker nodes did not form a cluster within {ServerProcess.ReadinessTimeout.TotalSeconds:0} s");
    }

    private Task<RunningServer> StartAsync(string name, string[] command, CancellationToken cancellationToken)
    {
        var port = Ports.FindFree();
        return StartAsync(name, [.. command, "--port", port.ToString(), "--host", "127.0.0.1"], port, cancellationToken);
    }

    /// <summary>Starts `actors COMMAND` and waits until <paramref name="port"/> listens.</summary>
    private Task<RunningServer> StartAsync(string name, string[] command, int port, CancellationToken cancellationToken)
    {
        if (ActorsDll is null)
        {
            throw new ServerUnavailableException(whyMissing ?? "actors.dll not found");
        }
        // Built-in defaults are compiled into actors.dll, so any working directory works.
        return ServerProcess.StartAsync(name, "dotnet", [ActorsDll, .. command], port, cancellationToken,
            workingDirectory: Path.GetDirectoryName(ActorsDll));
    }
}

/// <summary>Finds the repository root (the folder holding Actors.sln).</summary>
public static class RepositoryRoot
{
    public static string? Find()
    {
        // The build output sits inside the repo; the working directory is the fallback.
        return FindUpFrom(AppContext.BaseDirectory) ?? FindUpFrom(Environment.CurrentDirectory);
    }

    private static string? FindUpFrom(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Actors.sln")))
            {
                return directory.FullName;
            }
        }
        return null;
    }
}
