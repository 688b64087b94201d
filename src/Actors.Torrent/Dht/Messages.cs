using System.Net;

namespace Actors.Torrent.Dht;

// ---- what a DhtNode is asked ----------------------------------------------------------------

/// <summary>Iterative find_node for <paramref name="Target"/>; answered with <see cref="LookupCompleted"/>.</summary>
public sealed record FindNode(NodeId Target);

/// <summary>Iterative get_peers for <paramref name="InfoHash"/>; answered with <see cref="LookupCompleted"/>.</summary>
public sealed record GetPeers(NodeId InfoHash);

/// <summary>
/// get_peers for <paramref name="InfoHash"/>, then announce_peer to the closest nodes that gave a
/// token; answered with <see cref="AnnounceCompleted"/>.
/// </summary>
public sealed record AnnouncePeer(NodeId InfoHash, int Port, bool ImpliedPort = false);

/// <summary>
/// A BitTorrent peer said (BEP 5 <c>port</c> message) that its DHT node listens at
/// <paramref name="EndPoint"/> (the peer's IP, the advertised UDP port): the node pings it, and the
/// answer puts it in the routing table. The same endpoint is pinged at most once per
/// <see cref="DhtSettings.AdvertisedPingInterval"/>; nothing is answered.
/// </summary>
public sealed record PingAdvertisedNode(IPEndPoint EndPoint);

/// <summary>Join (again) through these nodes.</summary>
public sealed record BootstrapFrom(IReadOnlyList<IPEndPoint> Nodes);

/// <summary>Asks for a <see cref="DhtStatus"/>.</summary>
public sealed record GetDhtStatus
{
    public static GetDhtStatus Instance { get; } = new();
}

// ---- what a DhtNode tells ---------------------------------------------------------------------

/// <summary>The node's socket is bound: told to the node's owner (if it has one) once.</summary>
public sealed record DhtNodeStarted(NodeId Id, IPEndPoint EndPoint);

public enum LookupKind { FindNode, GetPeers }

/// <summary>
/// A lookup ended. <paramref name="Closest"/>: the closest nodes that answered, nearest first.
/// <paramref name="Hops"/>: for get_peers the hop at which the first node with peers answered, else
/// the hop of the closest node (a seed from our own table is hop 1). <paramref name="Error"/> is set
/// when the lookup was refused (too many running) or the node has no contacts.
/// </summary>
public sealed record LookupCompleted(
    NodeId Target,
    LookupKind Kind,
    IReadOnlyList<IPEndPoint> Peers,
    IReadOnlyList<NodeContact> Closest,
    int Hops,
    int Queried,
    int Responded,
    TimeSpan Elapsed,
    bool TimedOut,
    string? Error = null);

/// <summary>An announce ended: the lookup it ran and how many nodes accepted the announcement.</summary>
public sealed record AnnounceCompleted(NodeId InfoHash, LookupCompleted Lookup, int AcceptedBy);

/// <summary>What a node holds and has done (counters since start).</summary>
/// <param name="Dropped">Datagrams read and refused (too long, over a source's rate, not KRPC) and sends the OS refused.</param>
/// <param name="Overflowed">Datagrams dropped unread: <c>max-queued-datagrams</c> were already waiting for the node (a flood).</param>
public sealed record DhtStatus(
    NodeId Id,
    IPEndPoint? EndPoint,
    int TableSize,
    int Buckets,
    int GoodNodes,
    int StoredInfoHashes,
    int StoredPeers,
    int OutstandingQueries,
    int RunningLookups,
    long Received,
    long Sent,
    long Dropped,
    long Overflowed);

// ---- between a lookup and its node (internal) -------------------------------------------------

/// <summary>What a lookup wants asked; the node adds its id and a transaction id.</summary>
public abstract record QueryBody
{
    public sealed record Ping : QueryBody;
    public sealed record FindNode(NodeId Target) : QueryBody;
    public sealed record GetPeers(NodeId InfoHash) : QueryBody;
    public sealed record Announce(NodeId InfoHash, int Port, bool ImpliedPort, byte[] Token) : QueryBody;
}

/// <summary>A child asks its node to send a query; the node answers with <see cref="QueryAnswered"/> or <see cref="QueryFailed"/>.</summary>
public sealed record SendQuery(IPEndPoint To, NodeId? ExpectedId, QueryBody Body);

public sealed record QueryAnswered(IPEndPoint From, KrpcResponse Response);

/// <summary>No answer in time, an error answer, or no room for another query in flight.</summary>
public sealed record QueryFailed(IPEndPoint To, string Reason);
