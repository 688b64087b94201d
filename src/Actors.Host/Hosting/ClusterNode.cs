using System.Runtime.InteropServices;
using Actors.Net.Configuration;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;

namespace Actors.Host.Hosting;

/// <summary>
/// Runs one cluster member: one ActorSystem named "actors" whose first cluster role is the role's
/// name (a role may add others, e.g. the Distributed Data role).
/// With seeds it joins them; without, it forms a one-node cluster by itself. SIGINT and SIGTERM
/// leave the cluster gracefully through CoordinatedShutdown, and the process exits 0.
/// </summary>
public static class ClusterNode
{
    public const string SystemName = "actors";

    /// <param name="roles">The node's cluster roles; the first is the role it runs and names it.</param>
    /// <param name="startRole">Creates the role's actors (its settings were checked already).</param>
    /// <param name="rejoinWhenDowned">
    /// When the cluster downs this node (SBR, e.g. after the process stalled under load), start a
    /// fresh incarnation on the same ports and join again instead of exiting (the lab: an observer
    /// must outlive the faults it shows). At most <see cref="MaxRejoins"/> times.
    /// </param>
    public static async Task<int> RunAsync(IReadOnlyList<string> roles, Config config, Action<ActorSystem> startRole, bool rejoinWhenDowned = false)
    {
        for (var rejoins = 0; ; rejoins++)
        {
            var (code, downed) = await RunOnceAsync(roles, config, startRole);
            if (!downed || !rejoinWhenDowned || rejoins >= MaxRejoins) return code;
            Console.Error.WriteLine($"{NodeLogger.NodeName}: downed by the cluster; joining again as a new incarnation ({rejoins + 1}/{MaxRejoins})");
            await Task.Delay(TimeSpan.FromSeconds(1)); // the old incarnation's ports are released
        }
    }

    public const int MaxRejoins = 20;

    private static async Task<(int Code, bool Downed)> RunOnceAsync(IReadOnlyList<string> roles, Config config, Action<ActorSystem> startRole)
    {
        var role = roles[0];
        var cluster = new SettingsReader(config, "actors.cluster");
        var host = cluster.String("host");
        var port = cluster.Port("port");
        var seeds = cluster.StringList("seeds").Select(seed =>
        {
            try { return Endpoints.ParseHostPort(seed); }
            catch (FormatException ex) { throw new SettingsException("actors.cluster.seeds", ex.Message); }
        }).ToList();
        var name = new SettingsReader(config, "actors.node").String("name", allowEmpty: true);

        var akka = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp.hostname = "{{host}}"
            akka.remote.dot-netty.tcp.port = {{port}}
            akka.cluster.roles = [{{string.Join(", ", roles.Select(r => $"\"{r}\""))}}]
            """).WithFallback(config);

        NodeLogger.NodeName = string.IsNullOrEmpty(name) ? $"{role}@{host}:{port}" : name;
        using var system = StartSystem(akka, host, port);
        if (system is null) return (1, false);
        var self = Cluster.Get(system).SelfAddress;
        if (string.IsNullOrEmpty(name)) NodeLogger.NodeName = $"{role}@{self.Host}:{self.Port}";

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Leave);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Leave);
        void Leave(PosixSignalContext context)
        {
            context.Cancel = true; // we exit ourselves, after leaving the cluster
            CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        }

        system.ActorOf(MembershipLog.Props(), "membership-log");
        system.ActorOf(Actors.Lab.Agent.NodeAgent.Props(NodeLogger.NodeName, [role]), "lab-agent"); // figures and events for the lab
        system.ActorOf(Actors.Lab.ClusterLinks.ClusterLinkFaults.Props(), Actors.Lab.ClusterLinks.ClusterLinkFaults.ActorName); // the lab's partitions
        startRole(system);

        var clusterExtension = Cluster.Get(system);
        if (seeds.Count == 0)
            clusterExtension.Join(self);
        else
            clusterExtension.JoinSeedNodes(seeds.Select(s => new Address(self.Protocol, SystemName, s.Host, s.Port)));

        await system.WhenTerminated;
        var downed = CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason;
        return (RoleFailure.ExitCode(system), downed);
    }

    // Remoting binds the cluster port while the system is created: a port that is taken fails here,
    // before any role actor exists, and ends the process the same way a role's failure does.
    private static ActorSystem? StartSystem(Config akka, string host, int port)
    {
        try
        {
            return ActorSystem.Create(SystemName, akka);
        }
        catch (Exception ex)
        {
            var cause = ex;
            while (cause.InnerException is not null && cause is not System.Net.Sockets.SocketException) cause = cause.InnerException;
            RoleFailure.Report(cause is System.Net.Sockets.SocketException
                ? $"cannot listen on {host}:{port} (the cluster port): {cause.Message}"
                : $"cannot start the node: {cause.Message}");
            return null;
        }
    }
}
