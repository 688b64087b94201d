using Actors.Net.RateLimit;
using Actors.Torrent.Peer.Connections;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Picking;
using Akka.Actor;

namespace Actors.Torrent.Peer;

/// <summary>What every connection of one torrent shares: the torrent, who we are, where data lives, and the rate caps.</summary>
public sealed record ConnectionContext(
    TorrentMetainfo Torrent,
    byte[] OurPeerId,
    IActorRef TorrentActor,
    IActorRef Storage,
    TokenBucket Upload,
    TokenBucket Download)
{
    /// <summary>The process's sockets, shared by every torrent in it.</summary>
    public ConnectionBudget Budget { get; init; } = ConnectionBudget.Unshared();
    /// <summary>The process's <see cref="Actors.Net.Scheduling.TickWheel"/>: the connection's periodic tick.</summary>
    public required IActorRef Ticks { get; init; }
    /// <summary>Our listening port, told to peers in the extended handshake (<c>p</c>) so they can share us by PEX; 0 until bound.</summary>
    public int ListenPort { get; init; }
    /// <summary>Outgoing connections start from this address (the listening address when it is a specific one): peers then see one address for us, in and out.</summary>
    public System.Net.IPEndPoint? LocalAddress { get; init; }
    /// <summary>Which pieces few of our peers hold: the uploads serve requests for those first.</summary>
    public PieceRarity? Rarity { get; init; }
    /// <summary>The process's DHT node, if any: see <see cref="TorrentDht"/>.</summary>
    public TorrentDht? Dht { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(3);
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
