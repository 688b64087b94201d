using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Actors.Torrent.Dht;

/// <summary>
/// BEP 5's compact forms: a peer is 6 bytes (IPv4 address, port, network order), a node 26 bytes
/// (its id, then the peer form). IPv6 (BEP 32) is not spoken: IPv6 contacts are left out.
/// </summary>
public static class CompactEncoding
{
    public const int PeerSize = 6;
    public const int NodeSize = NodeId.Size + PeerSize;

    /// <summary>.NET reports IPv4 senders on dual-mode sockets as ::ffff:a.b.c.d; compare and encode them as IPv4.</summary>
    public static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    public static bool CanEncode(IPEndPoint endPoint) =>
        Normalize(endPoint).Address.AddressFamily == AddressFamily.InterNetwork && endPoint.Port is > 0 and <= 65535;

    /// <summary>Writes the 6-byte form; false for an IPv6 endpoint.</summary>
    public static bool TryWritePeer(IPEndPoint endPoint, Span<byte> destination)
    {
        var normal = Normalize(endPoint);
        if (normal.Address.AddressFamily != AddressFamily.InterNetwork || !normal.Address.TryWriteBytes(destination[..4], out _)) return false;
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)normal.Port);
        return true;
    }

    /// <summary>Reads the 6-byte form; false when the port is 0 (not a reachable peer).</summary>
    public static bool TryReadPeer(ReadOnlySpan<byte> source, out IPEndPoint endPoint)
    {
        var port = BinaryPrimitives.ReadUInt16BigEndian(source[4..PeerSize]);
        endPoint = new IPEndPoint(new IPAddress(source[..4]), port);
        return port != 0;
    }

    public static byte[] EncodePeer(IPEndPoint endPoint)
    {
        var bytes = new byte[PeerSize];
        if (!TryWritePeer(endPoint, bytes)) throw new ArgumentException($"{endPoint} is not an IPv4 endpoint", nameof(endPoint));
        return bytes;
    }

    /// <summary>The concatenated 26-byte forms of the IPv4 contacts among <paramref name="nodes"/>.</summary>
    public static byte[] EncodeNodes(IEnumerable<NodeContact> nodes)
    {
        var list = nodes.Where(n => CanEncode(n.EndPoint)).ToList();
        var bytes = new byte[list.Count * NodeSize];
        for (var i = 0; i < list.Count; i++)
        {
            var slot = bytes.AsSpan(i * NodeSize, NodeSize);
            list[i].Id.WriteTo(slot);
            TryWritePeer(list[i].EndPoint, slot[NodeId.Size..]);
        }
        return bytes;
    }

    /// <summary>Reads concatenated 26-byte node forms; entries with port 0 are skipped.</summary>
    /// <exception cref="KrpcException">The length is not a multiple of 26.</exception>
    public static IReadOnlyList<NodeContact> DecodeNodes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % NodeSize != 0) throw new KrpcException($"'nodes' is {bytes.Length} bytes, not a multiple of {NodeSize}");
        var nodes = new List<NodeContact>(bytes.Length / NodeSize);
        for (var offset = 0; offset < bytes.Length; offset += NodeSize)
        {
            var slot = bytes.Slice(offset, NodeSize);
            if (TryReadPeer(slot[NodeId.Size..], out var endPoint)) nodes.Add(new NodeContact(NodeId.FromBytes(slot[..NodeId.Size]), endPoint));
        }
        return nodes;
    }
}
