namespace Actors.Torrent.Peer.Magnet;

/// <summary>How a magnet link's metadata is fetched (BEP 9).</summary>
public sealed record MagnetSettings(byte[] PeerId)
{
    /// <summary>Largest info dictionary we accept (<c>actors.peer.max-metadata-size</c>); a peer announcing more is not asked.</summary>
    public int MaxMetadataSize { get; init; } = 8 * 1024 * 1024;
    /// <summary>The port the torrent will listen on: announced to trackers and told to peers (<c>p</c>).</summary>
    public int ListenPort { get; init; }
    /// <summary>Peers asked for metadata at once.</summary>
    public int MaxConnections { get; init; } = 8;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>One peer's whole exchange: handshakes and every metadata piece.</summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>The process's DHT node, if any: our handshakes set the DHT bit and send <c>port</c> (BEP 5), and the peers' DHT nodes are pinged.</summary>
    public TorrentDht? Dht { get; init; }
    /// <summary>Re-announce this often while no peer is left to ask.</summary>
    public TimeSpan ReannounceAfter { get; init; } = TimeSpan.FromSeconds(15);
}
