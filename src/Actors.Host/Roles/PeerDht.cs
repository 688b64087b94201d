using System.Net;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Torrent.Dht;
using Actors.Torrent.Peer;
using Akka.Actor;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors peer ... --dht-bootstrap HOST:PORT</c>: one DHT node for the process (its table kept in
/// DIR/.dht.state across runs) and, for each torrent of the process, a <see cref="DhtPeerSource"/>
/// that announces the torrent's TCP port and hands the peers it finds to the torrent, as its
/// tracker announcer would. The torrent itself has no DHT code: this is the whole seam.
/// </summary>
public static class PeerDht
{
    public static readonly CliOption[] Options =
    [
        new("--dht-bootstrap", null, "find peers through the Mainline DHT, joining through this node; repeat for several", "HOST:PORT", Repeatable: true),
        new("--dht-port", null, "UDP port of this process's DHT node (default 0: any)", "PORT"),
    ];

    /// <summary>Starts the DHT for <paramref name="torrents"/> when --dht-bootstrap was given; returns at once otherwise.</summary>
    /// <exception cref="UsageException">A bad --dht-bootstrap or --dht-port (thrown at once, not in the task).</exception>
    /// <param name="infoHash">The torrent's v1 info-hash (from a .torrent or a magnet link: nothing else is needed).</param>
    public static Task Start(ActorSystem system, ParsedArguments parsed, ReadOnlyMemory<byte> infoHash,
        IActorRef[] torrents, string directory, CancellationToken cancel)
    {
        var bootstrap = parsed.Values("--dht-bootstrap").Select(e => DhtCommand.ParseEndPoint(e, "--dht-bootstrap")).ToList();
        if (bootstrap.Count == 0) return Task.CompletedTask;
        var port = parsed.Value("--dht-port") is { } text
            ? int.TryParse(text, out var p) && p is >= 0 and <= 65535 ? p : throw new UsageException($"--dht-port: expected 0 to 65535, got \"{text}\"")
            : 0;
        return StartAsync(system, bootstrap, port, NodeId.FromBytes(infoHash.Span), torrents, directory, cancel);
    }

    private static async Task StartAsync(ActorSystem system, List<IPEndPoint> bootstrap, int port, NodeId infoHash,
        IActorRef[] torrents, string directory, CancellationToken cancel)
    {
        var node = system.ActorOf(RoleGuardian.Props(DhtNode.Props(new DhtSettings
        {
            Host = IPAddress.Any,
            Port = port,
            Bootstrap = bootstrap,
            StateFile = Path.Combine(directory, ".dht.state"),
        }), "node"), "dht");
        // Each torrent's TCP port is known once it listens.
        for (var i = 0; i < torrents.Length; i++)
        {
            var listenPort = 0;
            while (listenPort == 0 && !cancel.IsCancellationRequested)
            {
                try
                {
                    listenPort = (await torrents[i].Ask<TorrentProgress>(TorrentActor.GetProgress.Instance, TimeSpan.FromSeconds(5))).ListenPort;
                }
                catch (AskTimeoutException)
                {
                }
                if (listenPort == 0) await Task.Delay(200, cancel).ContinueWith(_ => { });
            }
            if (listenPort == 0) return;
            system.ActorOf(DhtPeerSource.Props(new DhtPeerSourceSettings(infoHash, listenPort), node, torrents[i]), $"dht-peers-{i}");
        }
    }
}
