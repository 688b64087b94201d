using System.Net;
using System.Security.Cryptography;
using System.Text;
using Actors.Torrent.Metainfo;

namespace Actors.Torrent.Peer;

/// <summary>One torrent to download or seed, and how.</summary>
public sealed record TorrentSettings(TorrentMetainfo Torrent, string Directory)
{
    public string Host { get; init; } = "0.0.0.0";
    /// <summary>Listening port; 0 picks a free one.</summary>
    public int Port { get; init; }
    /// <summary>The port announced to trackers when it is not the listening one (a port forward, the Lab's link proxy); 0: the listening port.</summary>
    public int AnnouncePort { get; init; }
    public int MaxPeers { get; init; } = 50;
    /// <summary>Bytes per second; 0 is unlimited.</summary>
    public long MaxUploadRate { get; init; }
    public long MaxDownloadRate { get; init; }
    public byte[] PeerId { get; init; } = NewPeerId();
    /// <summary>Peers to dial without asking a tracker (tests, LAN).</summary>
    public IReadOnlyList<IPEndPoint> InitialPeers { get; init; } = [];
    public bool UseTrackers { get; init; } = true;
    /// <summary>
    /// Distrust points that get a peer banned: a bad piece it sent alone costs 2, one it shared
    /// with others 1 (an honest co-sender must not be banned for a liar's blocks too quickly).
    /// </summary>
    public int StrikesToBan { get; init; } = 4;
    /// <summary>Shortest time between two PEX messages to one peer (BEP 11: once a minute; tests shorten it).</summary>
    public TimeSpan PexInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>
    /// BEP 16 super-seeding while seeding: peers are shown no bitfield and then one piece at a time,
    /// a piece nobody has yet, the next once they fetched it, so the seed uploads each piece about
    /// once and the leechers spread them. Only for a torrent complete when it starts.
    /// </summary>
    public bool SuperSeed { get; init; }
    /// <summary>The process's DHT node, when it runs one: the BEP 5 <c>port</c> message both ways (null: none).</summary>
    public TorrentDht? Dht { get; init; }

    /// <summary>Azureus-style id: "-AC0001-" and 12 random alphanumerics.</summary>
    public static byte[] NewPeerId()
    {
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        var id = new StringBuilder("-AC0001-");
        for (var i = 0; i < 12; i++) id.Append(alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]);
        return Encoding.ASCII.GetBytes(id.ToString());
    }
}

/// <summary>
/// The DHT node a torrent's connections advertise and feed (BEP 5): our handshake sets the DHT bit;
/// a peer that sets it too gets a <c>port</c> message with <paramref name="UdpPort"/>; a peer's
/// <c>port</c> message has <paramref name="Node"/> ping the peer's node (<c>Dht.PingAdvertisedNode</c>).
/// </summary>
public sealed record TorrentDht(Akka.Actor.IActorRef Node, int UdpPort);

/// <summary>A snapshot of one torrent's progress, for progress bars and tests.</summary>
public sealed record TorrentProgress(
    int PiecesHave, int PieceCount, long Downloaded, long Uploaded, double DownloadRate, double UploadRate,
    int Peers, bool Complete, long DownloadedFromSeeds, long DownloadedFromPeers, int Banned, int ListenPort)
{
    /// <summary>Distinct peer addresses first learned by PEX (BEP 11).</summary>
    public int PexLearned { get; init; }

    /// <summary>Which pieces we hold, as the wire's bitfield (a copy): the Lab's piece availability (copies of each piece).</summary>
    public byte[] Bitfield { get; init; } = [];
}

/// <summary>Bytes exchanged with one remote peer (its peer id, hex) since the torrent started: for the Lab's swarm view.</summary>
public sealed record PeerExchange(string PeerId, string Remote, long Uploaded, long Downloaded, bool Connected);

/// <summary>Answer to <c>TorrentActor.GetExchanges</c>: our peer id (hex) and every exchange (live connections and past ones).</summary>
public sealed record TorrentExchanges(string PeerId, IReadOnlyList<PeerExchange> Exchanges);
