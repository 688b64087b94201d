using System.Text.RegularExpressions;

namespace Actors.Calls.Tests.Nat;

/// <summary>
/// The shared NAT world for <see cref="NatTests"/>: the network, a two-node rendezvous cluster and
/// two relays on the public network, and the users file. Built once per test class; Dispose kills
/// every process it started and deletes every namespace.
/// </summary>
public sealed class NatLab : IDisposable
{
    public const string Rdv1 = "198.18.0.10", Rdv2 = "198.18.0.11", Relay1 = "198.18.0.12", Relay2 = "198.18.0.13", Public = "198.18.0.20", Public2 = "198.18.0.21";
    public const string Wan1 = "198.18.1.1", Wan2 = "198.18.1.2", Wan3 = "198.18.1.3", Wan4 = "198.18.1.4";
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    private readonly List<NsProcess> _processes = [];
    private readonly string _users = Path.Combine(Path.GetTempPath(), $"calls-nat-users-{Environment.ProcessId}.txt");
    /// <summary>Callers log at INFO here, so a failing assertion shows what they did.</summary>
    public string VerboseCallerConfig { get; } = Path.Combine(Path.GetTempPath(), $"calls-nat-caller-{Environment.ProcessId}.conf");

    public NatNetwork? Network { get; }
    public Dictionary<string, NsProcess> Relays { get; } = [];
    public List<NsProcess> Rendezvous { get; } = [];
    public string? Unavailable { get; } = NatNetwork.WhyUnavailable();

    public NatLab()
    {
        if (Unavailable is not null)
        {
            // Skipped visibly elsewhere (NatFact); under CI every NAT test fails with the reason.
            if (Tools.InCi) throw new InvalidOperationException($"CI=true but the NAT tests cannot run: {Unavailable}");
            return;
        }
        RemoveStaleNamespaces();
        Network = new NatNetwork($"callsnat{Environment.ProcessId}");
        // Should the test host be torn down without disposing fixtures, still remove what we made.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
        try
        {
            Build();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Ns(string name) => Network!.Ns(name);

    private void Build()
    {
        var net = Network!;
        net.PublicHost("rdv1", Rdv1);
        net.PublicHost("rdv2", Rdv2);
        net.PublicHost("relay1", Relay1);
        net.PublicHost("relay2", Relay2);
        net.PublicHost("pub", Public);
        net.PublicHost("pub2", Public2);
        net.NatedHost("nat1", Wan1, "home1", lan: 1);
        net.NatedHost("nat2", Wan2, "home2", lan: 2);
        net.NatedHost("nat3", Wan3, "home3", lan: 3, randomPorts: true); // symmetric NAT
        net.NatedHost("nat4", Wan4, "home4", lan: 4, randomPorts: true); // symmetric NAT
        File.WriteAllText(VerboseCallerConfig, "akka.loglevel = INFO\n");
        File.WriteAllLines(_users, ["alice:alice-secret", "bob:bob-secret", "carol:carol-secret", "dave:dave-secret",
            .. NatMatrix.Hosts.Select(h => $"{h.Id}:{h.Id}-secret")]);

        var rdv1 = Start(Ns("rdv1"), "rendezvous", "--host", "0.0.0.0", "--port", "7400", "--users", _users, "--probe-timeout", "2s",
            "--cluster-host", Rdv1, "--cluster-port", "4000", "--name", "rdv1");
        rdv1.WaitForLine(l => l.Contains("Listening on"), Wait);
        Rendezvous.Add(rdv1);
        Rendezvous.Add(Start(Ns("rdv2"), "rendezvous", "--host", "0.0.0.0", "--port", "7400", "--users", _users, "--probe-timeout", "2s",
            "--cluster-host", Rdv2, "--cluster-port", "4000", "--seed", $"{Rdv1}:4000", "--name", "rdv2"));
        foreach (var ip in new[] { Relay1, Relay2 }) StartRelay(ip);
        foreach (var ip in new[] { Rdv2, Relay1, Relay2 })
            rdv1.WaitForLine(l => l.Contains("Member up") && l.Contains($"{ip}:4000"), Wait);
        Thread.Sleep(1500); // relays publish their load (every 500 ms) and it spreads
    }

    private void StartRelay(string ip)
    {
        var name = ip == Relay1 ? "relay1" : "relay2";
        Relays[ip] = Start(Ns(name), "relay", "--host", "0.0.0.0", "--public-host", ip, "--port", "7500",
            "--cluster-host", ip, "--cluster-port", "4000", "--seed", $"{Rdv1}:4000", "--name", name);
    }

    /// <summary>
    /// Restarts relays an earlier test killed (the fixture is shared), so every test starts with
    /// two live relays. The new incarnation joins under the same address; the old one is removed.
    /// </summary>
    public void EnsureRelaysAlive()
    {
        var restarted = Relays.Where(r => r.Value.HasExited).Select(r => r.Key).ToList();
        if (restarted.Count == 0) return;
        var seen = Rendezvous[0].Lines.Count;
        foreach (var ip in restarted) StartRelay(ip);
        foreach (var ip in restarted)
        {
            // Up again in the cluster, as seen by the first rendezvous node.
            var deadline = DateTime.UtcNow + Wait;
            while (!Rendezvous[0].Lines.Skip(seen).Any(l => l.Contains("Member up") && l.Contains($"{ip}:4000")))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"relay {ip} did not rejoin:\n{Rendezvous[0].Output}");
                Thread.Sleep(100);
            }
        }
        Thread.Sleep(1500); // its load is published and spreads
    }

    public NsProcess Start(string ns, params string[] args)
    {
        var process = NsProcess.Actors(ns, args);
        lock (_processes) _processes.Add(process);
        return process;
    }

    public NsProcess StartCommand(string ns, params string[] command)
    {
        var process = new NsProcess(ns, command);
        lock (_processes) _processes.Add(process);
        return process;
    }

    /// <summary>Namespaces left by an earlier run of these tests whose process is gone.</summary>
    private static void RemoveStaleNamespaces()
    {
        var list = NatNetwork.Run("ip", "netns list", check: false);
        foreach (Match m in Regex.Matches(list, @"^(callsnat(\d+)-\S+)", RegexOptions.Multiline))
        {
            var pid = int.Parse(m.Groups[2].Value);
            if (pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                NatNetwork.Run("ip", $"netns del {m.Groups[1].Value}", check: false);
        }
    }

    public void Dispose()
    {
        try
        {
            lock (_processes)
            {
                foreach (var p in _processes)
                {
                    try { p.Dispose(); }
                    catch (Exception ex) { Console.Error.WriteLine($"[{p.Name}] cleanup: {ex.Message}"); }
                }
                _processes.Clear();
            }
        }
        finally
        {
            Network?.Dispose();
            File.Delete(_users);
            File.Delete(VerboseCallerConfig);
        }
    }
}
