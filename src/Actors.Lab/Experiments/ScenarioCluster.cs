using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Lab.Processes;

namespace Actors.Lab.Experiments;

/// <summary>
/// The scenario's own small cluster of real <c>actors</c> processes on free loopback ports,
/// started the way run-cluster starts them: output appended to <c>logs/NAME.log</c>, one manifest
/// per process in <c>nodes/</c> so the lab (started last, with <c>--manifests</c> there) can kill,
/// pause and restart any of them — load processes (peers, callers) included. Disposing kills every
/// process of the manifests (including ones the lab restarted under a new pid).
/// </summary>
public sealed class ScenarioCluster : IDisposable
{
    private readonly IReadOnlyList<string> _actors;
    private readonly HashSet<int> _ports = [];
    private readonly Dictionary<string, int> _servicePorts = [];
    private readonly ManifestStore _manifests;

    public string Directory { get; }
    public string Logs => Path.Combine(Directory, "logs");
    public string SeedAddress { get; private set; } = "";
    public LabHttp Lab { get; private set; } = null!;
    public string UsersFile => Path.Combine(Directory, "users.txt");

    /// <param name="actors">How to run the actors binary: ["dotnet", ".../actors.dll"] or [".../actors"].</param>
    public ScenarioCluster(string directory, IReadOnlyList<string> actors)
    {
        Directory = directory;
        _actors = actors;
        System.IO.Directory.CreateDirectory(Logs);
        _manifests = new ManifestStore(Path.Combine(directory, "nodes"));
    }

    /// <summary>The node's service port: HTTP for tracker and web, the callers' port for rendezvous and relay, the peer port for peers.</summary>
    public int PortOf(string name) => _servicePorts.TryGetValue(name, out var port) ? port : throw new KeyNotFoundException($"no node {name}");

    public int Pid(string name) => _manifests.Find(name)?.Pid ?? 0;

    /// <summary>
    /// Each process of the run (nodes, the lab, the load) by name: its state and when it started
    /// (unix ms, from /proc; 0 when gone), as its manifest says now (the lab rewrites a restarted one's pid).
    /// </summary>
    public IReadOnlyDictionary<string, (ProcessState State, long StartedUnixMs)> Processes()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return _manifests.ReadAll().GroupBy(m => m.Name).ToDictionary(g => g.Key, g =>
        {
            var state = g.Last().State();
            var started = state != ProcessState.Gone && Posix.Usage(g.Last().Pid) is { } usage ? now - (long)(usage.AgeSeconds * 1000) : 0;
            return (state, started);
        }, StringComparer.Ordinal);
    }

    /// <summary>The node's process as its manifest names it now (the lab rewrites a restarted one's pid).</summary>
    public ProcessState State(string name) => _manifests.Find(name)?.State() ?? ProcessState.Gone;

    /// <summary>A free loopback port not handed out before in this run (the OS may return one twice).</summary>
    public int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (_ports.Add(port)) return port;
        }
    }

    /// <summary>Starts the seed, then every other node at once, then the lab; returns when each listens and the lab has written its URL.</summary>
    public async Task Start(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<(string Name, int Listen, int Target)> links, string users, TimeSpan timeout, CancellationToken cancel)
    {
        await File.WriteAllTextAsync(UsersFile, users, cancel);
        var seedPort = FreePort();
        SeedAddress = $"127.0.0.1:{seedPort}";
        StartNode(nodes[0].Name, seedPort, ["seed", "--name", nodes[0].Name, "--cluster-port", $"{seedPort}", .. nodes[0].Options]);
        await WaitForPort(seedPort, nodes[0].Name, timeout, cancel);
        var waits = new List<Task>();
        foreach (var node in nodes.Skip(1))
        {
            var cluster = FreePort();
            var service = FreePort();
            _servicePorts[node.Name] = service;
            string[] common = ["--name", node.Name, "--cluster-port", $"{cluster}", "--seed", SeedAddress];
            string[] args = node.Role switch
            {
                "seed" => ["seed", .. common],
                "tracker" => ["tracker", "--host", "127.0.0.1", "--port", $"{service}", "--access-log", "off", .. common],
                "web" => ["web", "--host", "127.0.0.1", "--port", $"{service}", "--root", Directory, .. common],
                "rendezvous" => ["rendezvous", "--host", "127.0.0.1", "--port", $"{service}", "--users", UsersFile, .. common],
                "relay" => ["relay", "--host", "127.0.0.1", "--port", $"{service}", .. common],
                _ => throw new ArgumentException($"unknown role {node.Role}"),
            };
            StartNode(node.Name, cluster, [.. args, .. node.Options]);
            waits.Add(WaitForPort(node.Role == "seed" ? cluster : service, node.Name, timeout, cancel));
        }
        await Task.WhenAll(waits);

        var labConf = Path.Combine(Directory, "lab.conf");
        await File.WriteAllTextAsync(labConf, links.Count == 0 ? "# no links\n" : "actors.lab.links = [\n" +
            string.Concat(links.Select(l => $"  {{ name = \"{l.Name}\", listen = \"127.0.0.1:{l.Listen}\", target = \"127.0.0.1:{l.Target}\" }}\n")) + "]\n", cancel);
        var labCluster = FreePort();
        var labPort = FreePort();
        var tokenFile = Path.Combine(Directory, "lab.token");
        var urlFile = Path.Combine(Directory, "lab.url");
        StartNode("lab", labCluster, ["lab", "--name", "lab", "--port", $"{labPort}", "--manifests", Path.Combine(Directory, "nodes"),
            "--config", labConf, "--token-file", tokenFile, "--url-file", urlFile, "--cluster-port", $"{labCluster}", "--seed", SeedAddress]);
        var watch = Stopwatch.StartNew();
        while (!(File.Exists(urlFile) && File.Exists(tokenFile) && new FileInfo(tokenFile).Length > 0))
        {
            if (watch.Elapsed > timeout) throw new TimeoutException($"the lab did not start within {timeout.TotalSeconds} s; see {Path.Combine(Logs, "lab.log")}");
            if (State("lab") == ProcessState.Gone) throw new InvalidOperationException($"the lab exited: {Tail("lab", 5)}");
            await Task.Delay(100, cancel);
        }
        await Task.Delay(100, cancel); // the url file is written before the token file; let both settle
        Lab = new LabHttp(new Uri((await File.ReadAllTextAsync(urlFile, cancel)).Trim()), (await File.ReadAllTextAsync(tokenFile, cancel)).Trim());
    }

    /// <summary>Starts a process the runner drives (a peer, a caller): not a cluster member, but in the manifests so the lab can fault it.</summary>
    public int StartLoad(string name, int servicePort, IReadOnlyList<string> args)
    {
        _servicePorts[name] = servicePort;
        return StartNode(name, 0, args);
    }

    private int StartNode(string name, int clusterPort, IReadOnlyList<string> args)
    {
        var log = Path.Combine(Logs, name + ".log");
        var manifest = new NodeManifest(name, 0, [.. _actors, .. args], Directory, log, clusterPort > 0 ? $"127.0.0.1:{clusterPort}" : "");
        var started = ProcessLauncher.Start(manifest);
        _manifests.Write(started);
        return started.Pid;
    }

    /// <summary>Waits until the node listens; fails at once (with its log's last lines) if its process is gone.</summary>
    public async Task WaitForPort(int port, string name, TimeSpan timeout, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (State(name) == ProcessState.Gone) throw new InvalidOperationException($"{name} exited: {Tail(name, 5)}");
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, cancel);
                return;
            }
            catch (SocketException) { await Task.Delay(100, cancel); }
        }
        throw new TimeoutException($"{name} did not listen on port {port} within {timeout.TotalSeconds} s");
    }

    /// <summary>The last lines of a node's log, for a report that explains a failure.</summary>
    public string Tail(string name, int lines = 20)
    {
        var path = Path.Combine(Logs, name + ".log");
        try { return string.Join("\n", File.ReadLines(path).TakeLast(lines)); }
        catch (IOException) { return ""; }
    }

    /// <summary>How long <see cref="Dispose"/> waits for the processes it killed to be gone.</summary>
    private static readonly TimeSpan GoneTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Kills every process of the run and returns once none is left (or after <see cref="GoneTimeout"/>).
    /// A killed process takes a moment to go (its threads end, its memory is unmapped: longer on a
    /// loaded machine), and the lab may have written a restarted node's new pid just before it was
    /// killed itself; so the manifests are read again until none names a live process. Without the
    /// wait a run could exit with a node still ending, which its caller would count as left running.
    /// </summary>
    public void Dispose()
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var alive = _manifests.ReadAll().Where(m => m.State() != ProcessState.Gone).ToList();
            if (alive.Count == 0 || watch.Elapsed > GoneTimeout) break;
            foreach (var manifest in alive)
            {
                manifest.Signal("CONT");
                manifest.Signal("KILL");
            }
            Thread.Sleep(20);
        }
        Lab?.Dispose();
    }
}
