using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Actors.Lab.Nat;

/// <summary>
/// A small Internet in network namespaces. A "public" bridge (198.18.0.0/15, in namespace
/// <c>{prefix}-inet</c>) joins public hosts and the WAN side of home routers; each router
/// namespace NATs a private LAN (10.N.0.0/24) with one host behind it:
/// MASQUERADE out of the WAN, FORWARD from the WAN only for ESTABLISHED,RELATED, and
/// unsolicited packets to the router itself dropped (so an inbound connect hangs, as at home).
/// Dispose deletes every namespace it made, which removes their veths, bridge and iptables rules
/// with them (nothing is added to the root namespace). Used by the Lab's NAT matrix scenario and
/// by the Calls NAT tests.
/// </summary>
public sealed class NatNetwork : IDisposable
{
    public string Prefix { get; }
    private readonly List<string> _namespaces = [];
    private int _links;

    public NatNetwork(string prefix)
    {
        Prefix = prefix;
        Create("inet");
        Run("ip", $"-n {Ns("inet")} link add br0 type bridge");
        Run("ip", $"-n {Ns("inet")} link set br0 up");
    }

    public string Ns(string name) => $"{Prefix}-{name}";

    /// <summary>A host on the public network.</summary>
    public void PublicHost(string name, string address)
    {
        Create(name);
        Attach(name, "eth0", address + "/15");
    }

    /// <summary>A home router (WAN on the public network) with one host on its LAN behind NAT.</summary>
    /// <param name="randomPorts">MASQUERADE --random-fully: a "symmetric" NAT.</param>
    public void NatedHost(string router, string wanAddress, string host, int lan, bool randomPorts = false)
    {
        Create(router);
        Create(host);
        Attach(router, "wan0", wanAddress + "/15");
        var r = Ns(router);
        var h = Ns(host);
        Run("ip", $"link add lan0 netns {r} type veth peer name eth0 netns {h}");
        Run("ip", $"-n {r} addr add 10.{lan}.0.1/24 dev lan0");
        Run("ip", $"-n {r} link set lan0 up");
        Run("ip", $"-n {h} addr add 10.{lan}.0.2/24 dev eth0");
        Run("ip", $"-n {h} link set eth0 up");
        Run("ip", $"-n {h} route add default via 10.{lan}.0.1");
        Exec(router, "sysctl", "-q -w net.ipv4.ip_forward=1");
        Exec(router, "iptables", $"-t nat -A POSTROUTING -o wan0 -j MASQUERADE{(randomPorts ? " --random-fully" : "")}");
        Exec(router, "iptables", "-P FORWARD DROP");
        Exec(router, "iptables", "-A FORWARD -i lan0 -o wan0 -j ACCEPT");
        Exec(router, "iptables", "-A FORWARD -i wan0 -o lan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
        Exec(router, "iptables", "-A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT");
        Exec(router, "iptables", "-A INPUT -i wan0 -j DROP");
    }

    private void Create(string name)
    {
        Run("ip", $"netns add {Ns(name)}");
        _namespaces.Add(Ns(name));
        Run("ip", $"-n {Ns(name)} link set lo up");
    }

    private void Attach(string name, string device, string cidr)
    {
        var port = $"p{++_links}";
        Run("ip", $"link add {port} netns {Ns("inet")} type veth peer name {device} netns {Ns(name)}");
        Run("ip", $"-n {Ns("inet")} link set {port} master br0");
        Run("ip", $"-n {Ns("inet")} link set {port} up");
        Run("ip", $"-n {Ns(name)} addr add {cidr} dev {device}");
        Run("ip", $"-n {Ns(name)} link set {device} up");
    }

    public string Exec(string name, string program, string arguments) => Run("ip", $"netns exec {Ns(name)} {program} {arguments}");

    /// <summary>Runs a command to completion (bounded to 30 s); throws with its output when it fails.</summary>
    public static string Run(string program, string arguments, bool check = true)
    {
        var (code, output) = TryRun(program, arguments, TimeSpan.FromSeconds(30));
        if (check && code != 0) throw new InvalidOperationException($"`{program} {arguments}` failed ({code}): {output}");
        return output;
    }

    public static (int Code, string Output) TryRun(string program, string arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Null when namespaces, veths, bridges and iptables (and socat, when asked) work here; otherwise why not.</summary>
    public static string? WhyUnavailable(bool needSocat = false)
    {
        try
        {
            if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
            var (idCode, id) = TryRun("id", "-u", TimeSpan.FromSeconds(5));
            if (idCode != 0 || id.Trim() != "0") return "network namespaces need root (ip netns, iptables)";
            var probe = $"calls-probe-{Environment.ProcessId}";
            var (code, output) = TryRun("ip", $"netns add {probe}", TimeSpan.FromSeconds(10));
            if (code != 0) return $"ip netns add is not permitted here: {output.Trim()}";
            try
            {
                var (ipt, iptOut) = TryRun("ip", $"netns exec {probe} iptables -t nat -L", TimeSpan.FromSeconds(10));
                if (ipt != 0) return $"iptables does not work in a namespace: {iptOut.Trim()}";
                if (needSocat && TryRun("which", "socat", TimeSpan.FromSeconds(5)).Code != 0) return "socat is not installed";
            }
            finally { TryRun("ip", $"netns del {probe}", TimeSpan.FromSeconds(10)); }
            return null;
        }
        catch (Exception ex) { return $"cannot run ip/iptables: {ex.Message}"; }
    }

    /// <summary>Namespaces named <c>{stem}{pid}-…</c> left by an earlier run whose process is gone (killed before it could clean up): deleted.</summary>
    public static void RemoveStale(string stem)
    {
        var list = Run("ip", "netns list", check: false);
        foreach (Match m in Regex.Matches(list, $@"^({Regex.Escape(stem)}(\d+)-\S+)", RegexOptions.Multiline))
        {
            var pid = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                Run("ip", $"netns del {m.Groups[1].Value}", check: false);
        }
    }

    /// <summary>The namespaces whose names start with <paramref name="prefix"/> that still exist (none after Dispose).</summary>
    public static IReadOnlyList<string> Existing(string prefix) =>
        [.. Run("ip", "netns list", check: false).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(prefix + "-", StringComparison.Ordinal))];

    public void Dispose()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            var (code, output) = TryRun("ip", $"netns del {ns}", TimeSpan.FromSeconds(10));
            if (code != 0) Console.Error.WriteLine($"could not delete namespace {ns}: {output}");
        }
        _namespaces.Clear();
    }
}
