using System.Net;
using System.Text;
using Actors.Torrent.Bencode;

namespace Actors.Torrent.Dht;

/// <summary>
/// Pure encoder and decoder of KRPC datagrams (BEP 5). Strict about what it needs (types, id and
/// hash lengths, compact lengths, ports) and bounded: a datagram larger than
/// <see cref="MaxPacketBytes"/> is refused before it is parsed, so every list in it is bounded too.
/// Keys it does not know (<c>v</c>, <c>ro</c>, <c>ip</c>, <c>nodes6</c>, ...) are ignored.
/// </summary>
public static class KrpcCodec
{
    /// <summary>Largest datagram read or written (an Ethernet MTU; real KRPC packets are far smaller).</summary>
    public const int MaxPacketBytes = 1500;

    /// <summary>Longest transaction id accepted (real clients use 2 to 4 bytes).</summary>
    public const int MaxTransactionIdBytes = 32;

    /// <summary>Longest token accepted (real clients use 4 to 20 bytes).</summary>
    public const int MaxTokenBytes = 64;

    /// <summary>Most peers put in one get_peers answer: 50 × 8 bytes keeps it well under the MTU.</summary>
    public const int MaxValuesPerResponse = 50;

    /// <summary>Our client version, BEP 20 style: two letters and two version bytes.</summary>
    public static readonly byte[] Version = "AC01"u8.ToArray();

    private static readonly BencodeLimits Limits = new() { MaxInputBytes = MaxPacketBytes, MaxDepth = 4, MaxElements = 512 };

    /// <exception cref="KrpcException">The datagram is not a valid KRPC message or is too large.</exception>
    public static KrpcMessage Decode(ReadOnlySpan<byte> packet)
    {
        if (packet.Length > MaxPacketBytes) throw new KrpcException($"datagram of {packet.Length} bytes exceeds {MaxPacketBytes}");
        BDictionary message;
        try
        {
            message = BencodeDecoder.Decode(packet, Limits) as BDictionary ?? throw new KrpcException("not a dictionary");
        }
        catch (BencodeException ex)
        {
            throw new KrpcException(ex.Reason, inner: ex);
        }
        var tid = message.Get<BString>("t")?.Bytes.ToArray() ?? throw new KrpcException("no transaction id 't'");
        if (tid.Length > MaxTransactionIdBytes) throw new KrpcException($"transaction id of {tid.Length} bytes");
        var type = message.GetText("y");
        return type switch
        {
            "q" => DecodeQuery(message, tid),
            "r" => DecodeResponse(message, tid),
            "e" => DecodeError(message, tid),
            _ => throw new KrpcException($"unknown message type 'y' = {message["y"]?.ToString() ?? "(none)"}"),
        };
    }

    private static KrpcQuery DecodeQuery(BDictionary message, byte[] tid)
    {
        var method = message.GetText("q") ?? throw new KrpcException("query without a method 'q'", tid, isQuery: true);
        var args = message.GetDictionary("a") ?? throw new KrpcException("query without arguments 'a'", tid, isQuery: true);
        var sender = Id(args, "id", tid);
        return method switch
        {
            "ping" => new PingQuery(tid, sender),
            "find_node" => new FindNodeQuery(tid, sender, Id(args, "target", tid)),
            "get_peers" => new GetPeersQuery(tid, sender, Id(args, "info_hash", tid)),
            "announce_peer" => DecodeAnnounce(args, tid, sender),
            _ => new UnknownQuery(tid, sender, method.Length <= 64 ? method : method[..64]),
        };
    }

    private static AnnouncePeerQuery DecodeAnnounce(BDictionary args, byte[] tid, NodeId sender)
    {
        var infoHash = Id(args, "info_hash", tid);
        var implied = args.GetInteger("implied_port") is { } flag && flag != 0;
        var port = args.GetInteger("port");
        // With implied_port the port argument is ignored (and may be missing or 0).
        if (!implied && port is not (>= 1 and <= 65535)) throw new KrpcException($"announce_peer with port {port?.ToString() ?? "(none)"}", tid, isQuery: true);
        var token = args.Get<BString>("token")?.Bytes.ToArray() ?? throw new KrpcException("announce_peer without a token", tid, isQuery: true);
        if (token.Length > MaxTokenBytes) throw new KrpcException($"token of {token.Length} bytes", tid, isQuery: true);
        return new AnnouncePeerQuery(tid, sender, infoHash, port is >= 1 and <= 65535 ? (int)port : 0, implied, token);
    }

    private static KrpcResponse DecodeResponse(BDictionary message, byte[] tid)
    {
        var body = message.GetDictionary("r") ?? throw new KrpcException("response without 'r'");
        var sender = Id(body, "id", null);
        IReadOnlyList<NodeContact> nodes = body.Get<BString>("nodes") is { } compact ? CompactEncoding.DecodeNodes(compact.Bytes.Span) : [];
        var peers = new List<IPEndPoint>();
        if (body.GetList("values") is { } values)
        {
            foreach (var value in values.Items)
            {
                // 6-byte IPv4 peers; IPv6 (18 bytes, BEP 32) and malformed entries are skipped.
                if (value is BString { Length: CompactEncoding.PeerSize } peer && CompactEncoding.TryReadPeer(peer.Bytes.Span, out var endPoint)) peers.Add(endPoint);
            }
        }
        var token = body.Get<BString>("token")?.Bytes.ToArray();
        if (token is { Length: > MaxTokenBytes }) throw new KrpcException($"token of {token.Length} bytes");
        return new KrpcResponse(tid, sender, nodes, peers, token);
    }

    private static KrpcError DecodeError(BDictionary message, byte[] tid)
    {
        var list = message.GetList("e") ?? throw new KrpcException("error without 'e'");
        var code = list.Count > 0 && list[0] is BInteger { Value: >= 0 and <= 100_000 } c ? (int)c.Value : KrpcError.Generic;
        var text = list.Count > 1 && list[1] is BString s ? s.Text : "";
        return new KrpcError(tid, code, text.Length <= 256 ? text : text[..256]);
    }

    private static NodeId Id(BDictionary args, string key, byte[]? tid)
    {
        var value = args.Get<BString>(key) ?? throw new KrpcException($"no '{key}'", tid, isQuery: tid is not null);
        if (value.Length != NodeId.Size) throw new KrpcException($"'{key}' is {value.Length} bytes, not {NodeId.Size}", tid, isQuery: tid is not null);
        return NodeId.FromBytes(value.Bytes.Span);
    }

    /// <summary>Encodes a message; a response carries at most <see cref="MaxValuesPerResponse"/> peers.</summary>
    public static byte[] Encode(KrpcMessage message)
    {
        var builder = new BDictionaryBuilder().Add("t", message.TransactionId).Add("v", Version);
        switch (message)
        {
            case KrpcQuery query:
                builder.Add("y", "q").Add("q", query.Method).Add("a", QueryArguments(query));
                break;
            case KrpcResponse response:
                var body = new BDictionaryBuilder().Add("id", response.Sender.ToBytes());
                if (response.Nodes.Count > 0) body.Add("nodes", CompactEncoding.EncodeNodes(response.Nodes));
                if (response.Token is { } token) body.Add("token", token);
                if (response.Peers.Count > 0)
                {
                    body.Add("values", new BList(response.Peers.Where(CompactEncoding.CanEncode).Take(MaxValuesPerResponse)
                        .Select(p => (BValue)new BString(CompactEncoding.EncodePeer(p))).ToArray()));
                }
                builder.Add("y", "r").Add("r", body);
                break;
            case KrpcError error:
                builder.Add("y", "e").Add("e", new BList([new BInteger(error.Code), new BString(Encoding.UTF8.GetBytes(error.Message))]));
                break;
            default:
                throw new ArgumentException($"unknown KRPC message {message.GetType().Name}", nameof(message));
        }
        return BencodeEncoder.Encode(builder.Build());
    }

    private static BDictionaryBuilder QueryArguments(KrpcQuery query)
    {
        var args = new BDictionaryBuilder().Add("id", query.Sender.ToBytes());
        switch (query)
        {
            case FindNodeQuery find:
                args.Add("target", find.Target.ToBytes());
                break;
            case GetPeersQuery get:
                args.Add("info_hash", get.InfoHash.ToBytes());
                break;
            case AnnouncePeerQuery announce:
                args.Add("info_hash", announce.InfoHash.ToBytes()).Add("port", announce.Port).Add("token", announce.Token);
                if (announce.ImpliedPort) args.Add("implied_port", 1);
                break;
        }
        return args;
    }
}
