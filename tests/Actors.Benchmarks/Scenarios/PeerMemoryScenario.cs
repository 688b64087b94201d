using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Connections;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// What one idle peer connection costs, in process: one seeding <see cref="TorrentActor"/> (the
/// hub) in an actor system with the peer's Akka.IO sizes, and K plain sockets that dial it, send
/// a handshake and then stay silent. Live GC heap (after a full blocking collection), RSS and
/// bytes allocated while idle, before and after, divided by K. The clients' own sockets are
/// measured alone first (K plain socket pairs) and taken off, so the figure is one end of ours:
/// a <c>PeerConnection</c>, Akka.IO's <c>TcpConnection</c> and its receive buffer, the socket.
/// </summary>
public sealed class PeerMemoryScenario(BenchOptions options)
{
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(10);

    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("peer-memory", IdleWindow, 1);
        var k = options.Peers;
        var config = PeerConfig();
        var frame = (int)config.GetByteSize("akka.io.tcp.maximum-frame-size")!.Value;
        Console.WriteLine($"K = {k} idle connections; config/peer.conf with akka.io.tcp.maximum-frame-size = {frame / 1024} KiB (many peers' frame, or --frame); " +
            $"server GC {System.Runtime.GCSettings.IsServerGC}");

        var plain = await PlainSocketPairsAsync(k, cancellationToken);
        Console.WriteLine($"plain socket pair (client + accepted): {plain.HeapBytes / 1024.0:F2} KiB heap, {plain.RssBytes / 1024.0:F1} KiB RSS");

        using var temp = TempDirectory.Create("actors-peer-memory");
        var seedDir = temp.CreateSubdirectory("seed");
        var file = Path.Combine(seedDir, "hub.bin");
        await File.WriteAllBytesAsync(file, new byte[1024 * 1024], cancellationToken);
        var torrent = TorrentMetainfo.Parse(TorrentCreator.Create(file, new TorrentCreateOptions { PieceLength = 64 * 1024 }));

        using var system = ActorSystem.Create("peer-memory", config);
        var budget = new ConnectionBudget(new ConnectionLimits { MaxConnections = 2 * k + 64, ConnectsPerSecond = 100_000, MaxHalfOpen = 10_000 });
        var hub = system.ActorOf(TorrentActor.Props(new TorrentSettings(torrent, seedDir)
        {
            Host = "127.0.0.1", MaxPeers = k + 64, UseTrackers = false,
        }, budget: budget), "hub");
        var port = await PortOf(hub);

        // Warm-up: code paths, static caches and pools the first connections fill are not per-connection costs.
        var warm = await OpenAsync(port, torrent, 32, cancellationToken);
        await WaitForPeers(hub, 32, cancellationToken);
        foreach (var s in warm) s.Dispose();
        await WaitForPeers(hub, 0, cancellationToken);

        var before = Snapshot.Take();
        var clients = await OpenAsync(port, torrent, k, cancellationToken);
        await WaitForPeers(hub, k, cancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var after = Snapshot.Take();

        // Idle: what the connections allocate and burn while nothing moves.
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        await Task.Delay(IdleWindow, cancellationToken);
        var alloc1 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu1 = Process.GetCurrentProcess().TotalProcessorTime;
        var stillConnected = (await Progress(hub)).Peers;

        var heap = (double)(after.HeapBytes - before.HeapBytes) / k;
        var rss = (double)(after.RssBytes - before.RssBytes) / k;
        var ours = heap - plain.HeapBytes / 2;
        var table = new ResultTable("per idle connection (hub end)", "value");
        table.Add("live GC heap, with the client's socket", $"{heap / 1024:F2} KiB");
        table.Add("live GC heap, our end only (less half a plain pair)", $"{ours / 1024:F2} KiB");
        table.Add("  of which Akka.IO receive buffer (frame, pooled size)", $"{RoundUpPow2(frame) / 1024} KiB");
        table.Add("RSS, with the client's socket", $"{rss / 1024:F1} KiB");
        table.Add($"allocated while idle ({IdleWindow.TotalSeconds:F0} s)", $"{(alloc1 - alloc0) / (double)k / IdleWindow.TotalSeconds:F1} B/s");
        table.Add("process CPU while idle", $"{(cpu1 - cpu0).TotalSeconds / IdleWindow.TotalSeconds * 100:F2} % of a core");
        table.Add("connections still open after the idle window", $"{stillConnected} of {k}");
        table.Print();

        foreach (var s in clients) s.Dispose();
        await system.Terminate();
        return stillConnected == k;
    }

    /// <summary>What `actors peer --count N` runs with when N is many (config/peer.conf), or `--frame` if given.</summary>
    private Config PeerConfig()
    {
        var root = RepositoryRoot.Find() ?? throw new SetupException("cannot find the repository (Actors.sln) for config/peer.conf");
        var peerConf = ConfigurationFactory.ParseString(File.ReadAllText(Path.Combine(root, "config", "peer.conf")));
        // K idle connections in one process: what a process of many peers runs with (ManyPeers).
        var overrides = "akka.loglevel = WARNING\n";
        if (options.FrameKiB > 0) overrides += $"akka.io.tcp.maximum-frame-size = {options.FrameKiB} KiB\n";
        return ConfigurationFactory.ParseString(overrides)
            .WithFallback(ConfigurationFactory.ParseString(ManyPeers.Hocon(peerConf)))
            .WithFallback(peerConf);
    }

    private static int RoundUpPow2(int n) => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)n);

    private sealed record Snapshot(long HeapBytes, long RssBytes)
    {
        public static Snapshot Take()
        {
            for (var i = 0; i < 3; i++)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
            }
            return new Snapshot(GC.GetTotalMemory(forceFullCollection: true), Rss());
        }

        private static long Rss()
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
    }

    /// <summary>K client sockets and the K a plain listener accepted: what the clients' half costs, to take off.</summary>
    private static async Task<Snapshot> PlainSocketPairsAsync(int k, CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(k);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var before = Snapshot.Take();
        var pairs = new List<Socket>(2 * k);
        for (var i = 0; i < k; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            // The same 68 bytes as a handshake, so the client side costs what it costs below.
            await client.SendAsync(new byte[68], cancellationToken);
            pairs.Add(client);
            pairs.Add(await listener.AcceptAsync(cancellationToken));
        }
        var after = Snapshot.Take();
        foreach (var s in pairs) s.Dispose();
        return new Snapshot((after.HeapBytes - before.HeapBytes) / k, (after.RssBytes - before.RssBytes) / k);
    }

    private static async Task<List<Socket>> OpenAsync(int port, TorrentMetainfo torrent, int count, CancellationToken cancellationToken)
    {
        var sockets = new List<Socket>(count);
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            // A plain BEP 3 peer with nothing: no extension bits, so nothing is sent after the handshake.
            await socket.SendAsync(new Handshake(new byte[8], torrent.InfoHash.ToArray(), TorrentSettings.NewPeerId()).Encode(), cancellationToken);
            sockets.Add(socket);
        }
        return sockets;
    }

    private static async Task WaitForPeers(IActorRef hub, int count, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while ((await Progress(hub)).Peers != count)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"the hub never had {count} peers");
            await Task.Delay(100, cancellationToken);
        }
    }

    private static Task<TorrentProgress> Progress(IActorRef hub) =>
        hub.Ask<TorrentProgress>(TorrentActor.GetProgress.Instance, TimeSpan.FromSeconds(10));

    private static async Task<int> PortOf(IActorRef hub)
    {
        for (var i = 0; i < 200; i++)
        {
            var p = await Progress(hub);
            if (p.ListenPort > 0) return p.ListenPort;
            await Task.Delay(50);
        }
        throw new TimeoutException("the hub never listened");
    }
}
