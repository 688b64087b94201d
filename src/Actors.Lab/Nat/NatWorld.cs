namespace Actors.Lab.Nat;

/// <summary>A node of the NAT world's public network: <c>seed</c>, <c>rendezvous</c> or <c>relay</c>, at a fixed address.</summary>
public sealed record NatNode(string Name, string Role, string Address);

/// <summary>
/// A NAT world ready for calls: the <see cref="NatNetwork"/> (public hosts <c>pub</c> and
/// <c>pub2</c>, cone NATs <c>home1</c>, <c>home2</c>, symmetric NATs <c>home3</c>, <c>home4</c>),
/// the cluster nodes on the public network (the first one is the cluster's seed; rendezvous on
/// 7400, relays on 7500, cluster on 4000) and the users file. Dispose kills every process it
/// started (copying each one's output into the log folder, if given) and deletes every namespace,
/// also when the process exits without disposing it (Ctrl-C).
/// </summary>
public sealed class NatWorld : IDisposable
{
    public const string Rdv1 = "198.18.0.10", Rdv2 = "198.18.0.11", Relay1 = "198.18.0.12", Relay2 = "198.18.0.13", Seed = "198.18.0.9";
    public const string Public = "198.18.0.20", Public2 = "198.18.0.21";
    public const string Wan1 = "198.18.1.1", Wan2 = "198.18.1.2", Wan3 = "198.18.1.3", Wan4 = "198.18.1.4";
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    /// <summary>The Calls tests' world: two rendezvous nodes and two relays, the first rendezvous the seed.</summary>
    public static readonly NatNode[] TwoOfEach =
        [new("rdv1", "rendezvous", Rdv1), new("rdv2", "rendezvous", Rdv2), new("relay1", "relay", Relay1), new("relay2", "relay", Relay2)];

    private readonly List<NsProcess> _processes = [];
    private readonly IReadOnlyList<string> _actors;
    private readonly string? _logDir;
    private readonly string _users;
    private readonly EventHandler _onExit;
    private readonly object _disposing = new();
    private bool _disposed;

    /// <summary>Callers log at INFO here, so a failing call shows what they did.</summary>
    public string VerboseCallerConfig { get; }
    public NatNetwork Network { get; }
    public IReadOnlyList<NatNode> Nodes { get; }
    /// <summary>The rendezvous nodes' processes, in the order of <see cref="Nodes"/>.</summary>
    public List<NsProcess> Rendezvous { get; } = [];
    /// <summary>The relays' processes by address.</summary>
    public Dictionary<string, NsProcess> Relays { get; } = [];
    public IReadOnlyList<string> RendezvousAddresses => [.. Nodes.Where(n => n.Role == "rendezvous").Select(n => n.Address)];

    /// <param name="stem">Namespace names are <c>{stem}{pid}-{host}</c>; stale ones of dead processes with this stem are removed first.</param>
    /// <param name="actors">How to start the actors binary (<c>dotnet actors.dll</c> or the apphost).</param>
    /// <param name="logDir">Where each process's output is written when the world is disposed (null: nowhere).</param>
    public NatWorld(string stem, IReadOnlyList<string> actors, IReadOnlyList<NatNode> nodes, string? logDir = null, CancellationToken cancel = default)
    {
        _actors = actors;
        _logDir = logDir;
        Nodes = nodes;
        var tag = $"{stem}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _users = Path.Combine(Path.GetTempPath(), $"{tag}-users.txt");
        VerboseCallerConfig = Path.Combine(Path.GetTempPath(), $"{tag}-caller.conf");
        NatNetwork.RemoveStale(stem);
        Network = new NatNetwork($"{stem}{Environment.ProcessId}");
        // Should the process end without disposing us (Ctrl-C, a torn-down test host), still remove what we made.
        _onExit = (_, _) => Dispose();
        AppDomain.CurrentDomain.ProcessExit += _onExit;
        try
        {
            Build(cancel);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Ns(string name) => Network.Ns(name);

    private void Build(CancellationToken cancel)
    {
        foreach (var node in Nodes) Network.PublicHost(node.Name, node.Address);
        Network.PublicHost("pub", Public);
        Network.PublicHost("pub2", Public2);
        Network.NatedHost("nat1", Wan1, "home1", lan: 1);
        Network.NatedHost("nat2", Wan2, "home2", lan: 2);
        Network.NatedHost("nat3", Wan3, "home3", lan: 3, randomPorts: true); // symmetric NAT
        Network.NatedHost("nat4", Wan4, "home4", lan: 4, randomPorts: true); // symmetric NAT
        cancel.ThrowIfCancellationRequested();
        File.WriteAllText(VerboseCallerConfig, "akka.loglevel = INFO\n");
        File.WriteAllLines(_users, ["alice:alice-secret", "bob:bob-secret", "carol:carol-secret", "dave:dave-secret",
            .. NatMatrix.Hosts.Select(h => $"{h.Id}:{h.Id}-secret")]);

        var first = StartNode(Nodes[0], seed: null);
        first.WaitForLine(l => l.Contains(Nodes[0].Role == "seed" ? "Member up" : "Listening on"), Wait, cancel);
        foreach (var node in Nodes.Skip(1)) StartNode(node, Nodes[0].Address);
        foreach (var node in Nodes.Skip(1))
            first.WaitForLine(l => l.Contains("Member up") && l.Contains($"{node.Address}:4000"), Wait, cancel);
        Thread.Sleep(1500); // relays publish their load (every 500 ms) and it spreads
    }

    private NsProcess StartNode(NatNode node, string? seed)
    {
        string[] cluster = ["--cluster-host", node.Address, "--cluster-port", "4000", "--name", node.Name, .. seed is null ? Array.Empty<string>() : ["--seed", $"{seed}:4000"]];
        string[] args = node.Role switch
        {
            "seed" => ["seed", .. cluster],
            "rendezvous" => ["rendezvous", "--host", "0.0.0.0", "--port", "7400", "--users", _users, "--probe-timeout", "2s", .. cluster],
            "relay" => ["relay", "--host", "0.0.0.0", "--public-host", node.Address, "--port", "7500", .. cluster],
            _ => throw new ArgumentException($"a NAT world node is seed, rendezvous or relay, not {node.Role}"),
        };
        var process = Start(Ns(node.Name), args);
        if (node.Role == "rendezvous") Rendezvous.Add(process);
        if (node.Role == "relay") Relays[node.Address] = process;
        return process;
    }

    /// <summary>
    /// Restarts relays an earlier test killed (the Calls tests share one world), so every test
    /// starts with live relays. The new incarnation joins under the same address.
    /// </summary>
    public void EnsureRelaysAlive()
    {
        var restarted = Relays.Where(r => r.Value.HasExited).Select(r => r.Key).ToList();
        if (restarted.Count == 0) return;
        var first = Rendezvous[0];
        var seen = first.Lines.Count;
        foreach (var ip in restarted) StartNode(Nodes.Single(n => n.Address == ip), Nodes[0].Address);
        foreach (var ip in restarted)
        {
            var deadline = DateTime.UtcNow + Wait;
            while (!first.Lines.Skip(seen).Any(l => l.Contains("Member up") && l.Contains($"{ip}:4000")))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"relay {ip} did not rejoin:\n{first.Output}");
                Thread.Sleep(100);
            }
        }
        Thread.Sleep(1500); // its load is published and spreads
    }

    /// <summary>Starts <c>actors ARGS</c> in a namespace; the world stops it when disposed.</summary>
    public NsProcess Start(string ns, params string[] args) => StartCommand(ns, [.. _actors, .. args]);

    public NsProcess StartCommand(string ns, params string[] command)
    {
        lock (_processes)
        {
            // Torn down (Ctrl-C while building): start nothing more in namespaces that are going away.
            ObjectDisposedException.ThrowIf(_disposed, this);
            var process = new NsProcess(ns, command);
            _processes.Add(process);
            return process;
        }
    }

    public void Dispose()
    {
        // A second caller (the ProcessExit hook while the runner is already disposing) waits for the
        // first to finish: the process must not end with half the namespaces deleted.
        lock (_disposing)
        {
            if (_disposed) return;
            TearDown();
        }
    }

    private void TearDown()
    {
        AppDomain.CurrentDomain.ProcessExit -= _onExit;
        try
        {
            lock (_processes)
            {
                _disposed = true;
                if (_logDir is not null) Directory.CreateDirectory(_logDir);
                for (var i = 0; i < _processes.Count; i++)
                {
                    var p = _processes[i];
                    try
                    {
                        p.Dispose();
                        if (_logDir is not null)
                            File.WriteAllText(Path.Combine(_logDir, $"{i:D2}-{Safe(p.Name)}.log"), $"# {p.Name}\n{p.Output}\n");
                    }
                    catch (Exception ex) when (ex is IOException or InvalidOperationException or UnauthorizedAccessException)
                    {
                        Console.Error.WriteLine($"[{p.Name}] cleanup: {ex.Message}");
                    }
                }
                _processes.Clear();
            }
        }
        finally
        {
            Network.Dispose();
            File.Delete(_users);
            File.Delete(VerboseCallerConfig);
        }
    }

    private static string Safe(string name)
    {
        // "labnat123-home1: actors caller --id c1 …" → "labnat123-home1-actors-caller".
        var words = name.Split([' ', ':', '/'], StringSplitOptions.RemoveEmptyEntries).Take(3);
        return string.Join('-', words.Select(w => new string([.. w.Where(c => char.IsLetterOrDigit(c) || c is '-' or '_')]))).Trim('-');
    }
}
