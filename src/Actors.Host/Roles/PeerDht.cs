using System.Net;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Net.Udp;
using Actors.Torrent.Dht;
using Actors.Torrent.Peer;
using Akka.Actor;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors peer ... --dht-bootstrap HOST:PORT</c>: one DHT node for the process (its table kept in
/// DIR/.dht.state across runs) and a <see cref="DhtPeerSource"/> per consumer of peers — a magnet
/// link's <c>MetadataFetcher</c> while the metadata is fetched, then each torrent of the process —
/// that announces our TCP port and hands the peers it finds over as
/// <c>Announcer.PeersDiscovered</c>, as a tracker announcer would. Neither consumer has DHT code:
/// this is the whole seam.
/// </summary>
public sealed class PeerDht
{
    public static readonly CliOption[] Options =
    [
        new("--dht-bootstrap", null, "find peers through the Mainline DHT, joining through this node; repeat for several", "HOST:PORT", Repeatable: true),
        new("--dht-port", null, "UDP port of this process's DHT node (default 0: any)", "PORT"),
    ];

    private readonly ActorSystem _system;
    private int _sources;

    /// <summary>The process's DHT node (under its RoleGuardian, <c>/user/dht/node</c>).</summary>
    public IActorRef Node { get; }

    private PeerDht(ActorSystem system, IActorRef node)
    {
        _system = system;
        Node = node;
    }

    /// <summary>Starts the process's DHT node when --dht-bootstrap was given; null otherwise.</summary>
    /// <exception cref="UsageException">A bad --dht-bootstrap or --dht-port.</exception>
    public static PeerDht? Start(ActorSystem system, ParsedArguments parsed, string directory)
    {
        var bootstrap = parsed.Values("--dht-bootstrap").Select(e => DhtCommand.ParseEndPoint(e, "--dht-bootstrap")).ToList();
        if (bootstrap.Count == 0) return null;
        var port = parsed.Value("--dht-port") is { } text
            ? int.TryParse(text, out var p) && p is >= 0 and <= 65535 ? p : throw new UsageException($"--dht-port: expected 0 to 65535, got \"{text}\"")
            : 0;
        DatagramMailbox.Ensure(system);
        var node = system.ActorOf(RoleGuardian.Props(DhtNode.Props(new DhtSettings
        {
            Host = IPAddress.Any,
            Port = port,
            Bootstrap = bootstrap,
            StateFile = Path.Combine(directory, ".dht.state"),
        }), "node"), "dht");
        return new PeerDht(system, node);
    }

    /// <summary>
    /// What the torrents need for the BEP 5 <c>port</c> message: the node and its UDP port, once
    /// bound (the node answers only then). Null when the process ended first (the port was taken).
    /// </summary>
    public async Task<TorrentDht?> ForTorrents()
    {
        var asked = Node.Ask<DhtStatus>(GetDhtStatus.Instance, TimeSpan.FromSeconds(60));
        await Task.WhenAny(asked, _system.WhenTerminated);
        return asked.IsCompletedSuccessfully && asked.Result.EndPoint is { } bound ? new TorrentDht(Node, bound.Port) : null;
    }

    /// <summary>
    /// Announces <paramref name="port"/> for <paramref name="infoHash"/> and tells
    /// <paramref name="consumer"/> the peers found, until the returned source is stopped.
    /// </summary>
    /// <param name="infoHash">v1 info-hash: from a .torrent or a magnet link (nothing else is needed).</param>
    public IActorRef FindPeers(ReadOnlyMemory<byte> infoHash, int port, IActorRef consumer) =>
        _system.ActorOf(DhtPeerSource.Props(new DhtPeerSourceSettings(NodeId.FromBytes(infoHash.Span), port), Node, consumer),
            $"dht-peers-{_sources++}");

    /// <summary>A source per torrent, each once its TCP port is known (it listens).</summary>
    public async Task FeedTorrents(ReadOnlyMemory<byte> infoHash, IActorRef[] torrents, CancellationToken cancel)
    {
        foreach (var torrent in torrents)
        {
            var listenPort = 0;
            while (listenPort == 0 && !cancel.IsCancellationRequested)
            {
                try
                {
                    listenPort = (await torrent.Ask<TorrentProgress>(TorrentActor.GetProgress.Instance, TimeSpan.FromSeconds(5))).ListenPort;
                }
                catch (AskTimeoutException)
                {
                }
                if (listenPort == 0) await Task.Delay(200, cancel).ContinueWith(_ => { });
            }
            if (listenPort == 0) return;
            FindPeers(infoHash, listenPort, torrent);
        }
    }
}
