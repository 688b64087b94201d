using System.Net;
using Actors.Calls.Caller;
using Actors.Calls.Protocol;
using Actors.Calls.Relay;
using Actors.Calls.Rendezvous;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;

namespace Actors.Calls.Tests.Support;

/// <summary>
/// In-process call network on loopback: cluster nodes (each an ActorSystem on port 0) running
/// rendezvous and relay roles, and callers in a plain local ActorSystem. Disposing terminates
/// every system it made.
/// </summary>
public sealed class CallLab : IDisposable
{
    public static readonly UserDirectory Users = UserDirectory.Parse(["alice:alice-secret", "bob:bob-secret", "carol:carol-secret", "mallory:mallory-secret"]);

    private static readonly Config ClusterConfig = ConfigurationFactory.ParseString(Actors.Calls.Serialization.CallsSerializer.Hocon).WithFallback(ConfigurationFactory.ParseString($"""
        akka.loglevel = {Environment.GetEnvironmentVariable("CALLS_TEST_LOG") ?? "WARNING"}
        akka.stdout-loglevel = WARNING
        akka.actor.provider = cluster
        akka.extensions = ["Akka.DistributedData.DistributedDataProvider, Akka.DistributedData"]
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.distributed-data.notify-subscribers-interval = 100ms
        akka.cluster.distributed-data.gossip-interval = 200ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        akka.cluster.downing-provider-class = ""
        akka.io.tcp.maximum-frame-size = 128 KiB
        akka.io.tcp.send-buffer-size = 256 KiB
        akka.io.tcp.receive-buffer-size = 256 KiB
        akka.coordinated-shutdown.exit-clr = off
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        """));

    private readonly List<ActorSystem> _systems = [];
    private Address? _seed;

    public ActorSystem Callers { get; }

    public CallLab()
    {
        Callers = ActorSystem.Create("callers", ConfigurationFactory.ParseString($"""
            akka.loglevel = {Environment.GetEnvironmentVariable("CALLS_TEST_LOG") ?? "WARNING"}
            akka.stdout-loglevel = WARNING
            akka.io.udp.disabled-buffer-pool.buffer-size = 2048
            """));
        _systems.Add(Callers);
    }

    /// <summary>A new cluster node (joins the first one made).</summary>
    public ActorSystem Node()
    {
        var system = ActorSystem.Create("actors", ClusterConfig);
        _systems.Add(system);
        var cluster = Cluster.Get(system);
        _seed ??= cluster.SelfAddress;
        var up = new TaskCompletionSource();
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        cluster.Join(_seed);
        if (!up.Task.Wait(TimeSpan.FromSeconds(20))) throw new TimeoutException("cluster node did not come up");
        return system;
    }

    public (ActorSystem Node, int Port) Rendezvous(Func<RendezvousSettings, RendezvousSettings>? tweak = null, ActorSystem? node = null)
    {
        node ??= Node();
        // Hole punching off unless a test turns it on: on loopback a simultaneous open races the RST
        // from the other side's port (no NAT drops the early SYN), so whether it works is luck and
        // "two unreachable callers" would sometimes punch. The NAT tests (Nat/) punch for real.
        var settings = new RendezvousSettings("127.0.0.1", 0, Users, ProbeTimeoutOrNull: TimeSpan.FromSeconds(1), RingTimeoutOrNull: TimeSpan.FromSeconds(5),
            HolePunch: false);
        if (tweak is not null) settings = tweak(settings);
        var server = node.ActorOf(RendezvousServer.Props(settings), "rendezvous");
        var listening = server.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, TimeSpan.FromSeconds(10)).Result;
        return (node, ((IPEndPoint)listening.LocalAddress).Port);
    }

    public (ActorSystem Node, IActorRef Server, int Port) Relay(Func<RelaySettings, RelaySettings>? tweak = null, ActorSystem? node = null)
    {
        node ??= Node();
        var settings = new RelaySettings("127.0.0.1", 0, "127.0.0.1");
        if (tweak is not null) settings = tweak(settings);
        var server = node.ActorOf(RelayServer.Props(settings), "relay");
        for (var i = 0; i < 100; i++)
        {
            var stats = server.Ask<RelayServer.Stats>(RelayServer.GetStats.Instance, TimeSpan.FromSeconds(10)).Result;
            if (stats.Port != 0) return (node, server, stats.Port);
            Thread.Sleep(50);
        }
        throw new TimeoutException("relay did not start listening");
    }

    /// <summary>Waits until <paramref name="node"/>'s replica lists <paramref name="count"/> relays.</summary>
    public static void WaitForRelays(ActorSystem node, int count)
    {
        var replicator = Akka.DistributedData.DistributedData.Get(node).Replicator;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var reply = replicator.Ask(Akka.DistributedData.Dsl.Get(RelayRegistry.Key, Akka.DistributedData.ReadLocal.Instance), TimeSpan.FromSeconds(3)).Result;
            if (reply is Akka.DistributedData.GetSuccess success && success.Get(RelayRegistry.Key).Count >= count) return;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"{count} relays not published");
    }

    public static CallerSettings Caller(string id, int rendezvousPort, bool listen = false, string? call = null,
        bool autoAnswer = false, double? durationS = null, string? secret = null) =>
        new(id, secret ?? $"{id}-secret", "127.0.0.1", rendezvousPort, "127.0.0.1", listen ? 0 : null, call, autoAnswer,
            durationS is null ? null : TimeSpan.FromSeconds(durationS.Value), ConnectTimeoutOrNull: TimeSpan.FromSeconds(2),
            ReconnectGraceOrNull: TimeSpan.FromSeconds(10));

    public IActorRef StartCaller(CallerSettings settings) => Callers.ActorOf(CallerAgent.Props(settings), $"caller-{settings.Id}-{Guid.NewGuid():N}");

    public void Dispose()
    {
        foreach (var system in Enumerable.Reverse(_systems))
        {
            try { system.Terminate().Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        }
    }
}
