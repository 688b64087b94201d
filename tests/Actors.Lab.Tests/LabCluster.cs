using System.Diagnostics;
using System.Text.Json;
using Actors.Lab.Processes;

namespace Actors.Lab.Tests;

/// <summary>
/// A real three-process cluster for the lab's end-to-end tests: a seed, a tracker named
/// "tracker2" and the lab, started like run-cluster starts them, with a manifest per node so
/// the lab can kill and restart them. Disposing kills every process, including nodes the lab
/// restarted (their pids are in the manifests), and deletes the folder.
/// </summary>
public sealed class LabCluster : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("lab-cluster-").FullName;
    public string Url { get; private set; } = "";
    public string Token { get; private set; } = "";
    public ActorsProcess Lab { get; private set; } = null!;
    public int TrackerHttpPort { get; private set; }
    private readonly List<ActorsProcess> _processes = [];
    private readonly Dictionary<ActorsProcess, string> _names = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public string Manifests => Path.Combine(Directory, "nodes");

    /// <summary>With two "machines": tracker2 is started by machine B, whose manifests only its agent (<c>actors agent</c>) reads.</summary>
    public string MachineBManifests => Path.Combine(Directory, "machine-b");

    private bool _twoMachines;

    /// <param name="twoMachines">tracker2's manifest in a second folder, with an <c>actors agent</c> node acting for it.</param>
    public static async Task<LabCluster> Start(bool twoMachines = false)
    {
        var cluster = new LabCluster { _twoMachines = twoMachines };
        try { await cluster.StartNodes(); }
        catch { cluster.Dispose(); throw; }
        return cluster;
    }

    private readonly HashSet<int> _ports = [];

    /// <summary>A free port not handed out before in this cluster (the OS may return one twice).</summary>
    private int Port()
    {
        while (true)
        {
            var port = ActorsProcess.FreePort();
            if (_ports.Add(port)) return port;
        }
    }

    private async Task StartNodes()
    {
        var seedPort = Port();
        var seed = $"127.0.0.1:{seedPort}";
        Node("seed", seedPort, "seed", "--name", "seed", "--cluster-port", seedPort.ToString());
        var trackerCluster = Port();
        TrackerHttpPort = Port();
        var trackerManifests = _twoMachines ? MachineBManifests : Manifests;
        NodeIn(trackerManifests, "tracker2", trackerCluster, "tracker", "--name", "tracker2", "--host", "127.0.0.1", "--port", TrackerHttpPort.ToString(),
            "--cluster-port", trackerCluster.ToString(), "--seed", seed);
        if (_twoMachines)
        {
            var agentCluster = Port();
            NodeIn(MachineBManifests, "agent-b", agentCluster, "agent", "--name", "agent-b", "--manifests", MachineBManifests,
                "--cluster-port", agentCluster.ToString(), "--seed", seed);
        }
        var labCluster = Port();
        Lab = Node("lab", labCluster, "lab", "--name", "lab", "--port", Port().ToString(), "--manifests", Manifests,
            "--token-file", Path.Combine(Directory, "lab.token"), "--url-file", Path.Combine(Directory, "lab.url"),
            "--cluster-port", labCluster.ToString(), "--seed", seed);
        await Lab.WaitForLine(l => l.StartsWith("Lab: http://", StringComparison.Ordinal), TimeSpan.FromSeconds(120));
        Url = (await File.ReadAllTextAsync(Path.Combine(Directory, "lab.url"))).Trim();
        Token = (await File.ReadAllTextAsync(Path.Combine(Directory, "lab.token"))).Trim();
    }

    private ActorsProcess Node(string name, int clusterPort, params string[] args) => NodeIn(Manifests, name, clusterPort, args);

    private ActorsProcess NodeIn(string manifests, string name, int clusterPort, params string[] args)
    {
        var process = new ActorsProcess(args);
        _processes.Add(process);
        _names[process] = name;
        // With its start time, as run-cluster writes it: the lab, and Dispose below, never signal a
        // reused pid (pid_max is 32,768 here, and a test run starts thousands of threads and processes).
        new ManifestStore(manifests).Write(new NodeManifest(name, process.Id, ["dotnet", ActorsProcess.ActorsDll, .. args],
            AppContext.BaseDirectory, Path.Combine(Directory, name + ".log"), $"127.0.0.1:{clusterPort}", Posix.StartTime(process.Id)));
        return process;
    }

    public int FreePort() => Port();

    /// <summary>The lab's status of one node ("" while it is not listed).</summary>
    public async Task<string> StatusOf(string name)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(Url + "api/status"));
        return doc.RootElement.GetProperty("nodes").EnumerateArray()
            .FirstOrDefault(n => n.GetProperty("name").GetString() == name) is { ValueKind: JsonValueKind.Object } node
            ? node.GetProperty("status").GetString()! : "";
    }

    /// <summary>Polls the lab until every named node has one of the statuses; returns the time it took.</summary>
    public async Task<TimeSpan> WaitForStatus(TimeSpan timeout, string[] statuses, params string[] names)
    {
        var watch = Stopwatch.StartNew();
        var last = "";
        while (watch.Elapsed < timeout)
        {
            var all = true;
            foreach (var name in names)
            {
                string status;
                try { status = await StatusOf(name); }
                catch (HttpRequestException e)
                {
                    // The lab's own HTTP server is down between two incarnations (it was downed
                    // and joins again): not an answer yet, poll on.
                    last = $"the lab's API: {e.Message}";
                    all = false;
                    break;
                }
                last = $"{name}: {status}";
                all &= statuses.Contains(status);
            }
            if (all) return watch.Elapsed;
            await Task.Delay(250);
        }
        // Every node's state too: a node gone without a word (its pid reused and killed?) shows here.
        var nodes = string.Join(", ", _processes.Select(p => $"{_names[p]} pid {p.Id} {(p.HasExited ? "exited" : "running")}"));
        // The other nodes' last lines: why a node the lab expected exited (it downed itself?) is there.
        var tails = string.Concat(_processes.Where(p => p != Lab).Select(p =>
            $"\n{_names[p]}'s last lines:\n{string.Join('\n', p.Lines.TakeLast(40))}"));
        throw new TimeoutException($"not {string.Join("|", statuses)} within {timeout}; last {last}; processes: {nodes}\nlab output:\n{Lab.Output}{tails}");
    }

    /// <summary>Runs <c>actors lab ARGS --lab URL</c> (the token only when given) and returns its exit code and output.</summary>
    public async Task<(int Code, string Output)> Cli(params string[] args)
    {
        using var cli = new ActorsProcess(["lab", .. args, "--lab", Url]);
        var code = await cli.WaitForExit(TimeSpan.FromSeconds(150));
        return (code, cli.Output);
    }

    public void Dispose()
    {
        NodeCleanup.KillNodesIn([Manifests, MachineBManifests]);
        foreach (var process in _processes) process.Dispose();
        _http.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
