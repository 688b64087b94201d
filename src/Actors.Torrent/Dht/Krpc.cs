using System.Net;

namespace Actors.Torrent.Dht;

/// <summary>A node's contact: its id and UDP endpoint (BEP 5 "compact node info" is 26 bytes of this).</summary>
public sealed record NodeContact(NodeId Id, IPEndPoint EndPoint);

/// <summary>
/// A KRPC message (BEP 5): a bencoded dictionary in one UDP datagram. The transaction id is chosen
/// by the querying node and echoed in the response or error; it is a short opaque byte string.
/// </summary>
public abstract record KrpcMessage(byte[] TransactionId);

/// <summary>A query (<c>y = q</c>); every query carries the sender's node id.</summary>
public abstract record KrpcQuery(byte[] TransactionId, NodeId Sender) : KrpcMessage(TransactionId)
{
    /// <summary>The method name on the wire.</summary>
    public abstract string Method { get; }
}

public sealed record PingQuery(byte[] TransactionId, NodeId Sender) : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "ping";
}

public sealed record FindNodeQuery(byte[] TransactionId, NodeId Sender, NodeId Target) : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "find_node";
}

public sealed record GetPeersQuery(byte[] TransactionId, NodeId Sender, NodeId InfoHash) : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "get_peers";
}

/// <summary>
/// <c>announce_peer</c>: the sender has a peer for <see cref="InfoHash"/> on <see cref="Port"/>, or on
/// the UDP source port of this packet when <see cref="ImpliedPort"/> is set (for peers behind a NAT
/// that maps the TCP port like the UDP one). The token is the one our get_peers answer gave it.
/// </summary>
public sealed record AnnouncePeerQuery(byte[] TransactionId, NodeId Sender, NodeId InfoHash, int Port, bool ImpliedPort, byte[] Token)
    : KrpcQuery(TransactionId, Sender)
{
    public override string Method => "announce_peer";
}

/// <summary>A query whose method we do not know; answered with error 204.</summary>
public sealed record UnknownQuery(byte[] TransactionId, NodeId Sender, string Name) : KrpcQuery(TransactionId, Sender)
{
    public override string Method => Name;
}

/// <summary>
/// A response (<c>y = r</c>). Responses do not name their method: the querier matches them to its
/// query by transaction id. One shape covers all four: <c>nodes</c> (find_node, get_peers),
/// <c>values</c> and <c>token</c> (get_peers), none (ping, announce_peer).
/// </summary>
public sealed record KrpcResponse(byte[] TransactionId, NodeId Sender, IReadOnlyList<NodeContact> Nodes, IReadOnlyList<IPEndPoint> Peers, byte[]? Token)
    : KrpcMessage(TransactionId)
{
    public static KrpcResponse Simple(byte[] transactionId, NodeId sender) => new(transactionId, sender, [], [], null);
}

/// <summary>An error (<c>y = e</c>): 201 generic, 202 server, 203 protocol, 204 method unknown.</summary>
public sealed record KrpcError(byte[] TransactionId, int Code, string Message) : KrpcMessage(TransactionId)
{
    public const int Generic = 201;
    public const int Server = 202;
    public const int Protocol = 203;
    public const int MethodUnknown = 204;
}

/// <summary>
/// A datagram that is not a valid KRPC message. <see cref="TransactionId"/> is set when the packet
/// was a readable query, so the node can answer with a protocol error (203); otherwise it is dropped.
/// </summary>
public sealed class KrpcException(string reason, byte[]? transactionId = null, bool isQuery = false, Exception? inner = null)
    : FormatException($"Invalid KRPC message: {reason}", inner)
{
    public string Reason { get; } = reason;
    public byte[]? TransactionId { get; } = transactionId;

    /// <summary>True when the bad packet was a query (and so deserves an error reply).</summary>
    public bool IsQuery { get; } = isQuery;
}
