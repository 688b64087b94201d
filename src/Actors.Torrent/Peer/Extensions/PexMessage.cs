using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Bencode;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Peer.Extensions;

/// <summary>One peer in a PEX message, with its BEP 11 flags (0x01 prefers encryption, 0x02 seed, 0x10 reachable).</summary>
public sealed record PexPeer(IPEndPoint EndPoint, byte Flags = 0)
{
    public const byte Seed = 0x02, Reachable = 0x10;
}

/// <summary>
/// A BEP 11 <c>ut_pex</c> message: peers the sender connected to (<c>added</c>, <c>added6</c>,
/// with one flag byte each in <c>added.f</c>/<c>added6.f</c>) and disconnected from
/// (<c>dropped</c>, <c>dropped6</c>), in compact form. Pure codec.
/// </summary>
/// <remarks>
/// BEP 11 lets a sender list at most <see cref="MaxPeersPerMessage"/> added and as many dropped
/// peers per message. We send no more, and read no more than <see cref="MaxPeersRead"/> of each
/// kind (the rest is ignored: a peer that lists thousands gains nothing). Entries with port 0 are skipped.
/// </remarks>
public sealed record PexMessage(IReadOnlyList<PexPeer> Added, IReadOnlyList<IPEndPoint> Dropped)
{
    public const int MaxPeersPerMessage = 50;
    public const int MaxPeersRead = 200;

    private static readonly BencodeLimits Limits = new() { MaxInputBytes = WireLimits.MaxExtendedLength, MaxDepth = 2, MaxElements = 64 };

    /// <summary>The payload (after the receiver's ut_pex id).</summary>
    public byte[] Encode()
    {
        var added4 = Added.Where(p => IsV4(p.EndPoint)).ToArray();
        var added6 = Added.Where(p => !IsV4(p.EndPoint)).ToArray();
        var dict = new BDictionaryBuilder()
            .Add("added", Compact(added4.Select(p => p.EndPoint), 4))
            .Add("added.f", added4.Select(p => p.Flags).ToArray())
            .Add("dropped", Compact(Dropped.Where(IsV4), 4));
        if (added6.Length > 0)
            dict.Add("added6", Compact(added6.Select(p => p.EndPoint), 16)).Add("added6.f", added6.Select(p => p.Flags).ToArray());
        if (Dropped.Any(d => !IsV4(d))) dict.Add("dropped6", Compact(Dropped.Where(d => !IsV4(d)), 16));
        return BencodeEncoder.Encode(dict.Build());
    }

    /// <exception cref="PeerProtocolException">Not a bencoded dictionary.</exception>
    public static PexMessage Parse(ReadOnlySpan<byte> payload)
    {
        BValue value;
        try
        {
            value = BencodeDecoder.Decode(payload, Limits);
        }
        catch (BencodeException ex)
        {
            throw new PeerProtocolException($"ut_pex message is not bencode: {ex.Message}");
        }
        if (value is not BDictionary dict) throw new PeerProtocolException("ut_pex message is not a dictionary");
        var added = new List<PexPeer>();
        ReadAdded(dict, "added", "added.f", 4, added);
        ReadAdded(dict, "added6", "added6.f", 16, added);
        var dropped = new List<IPEndPoint>();
        ReadCompact(dict.Get<BString>("dropped"), 4, (endPoint, _) => dropped.Add(endPoint));
        ReadCompact(dict.Get<BString>("dropped6"), 16, (endPoint, _) => dropped.Add(endPoint));
        return new PexMessage(added, dropped);
    }

    private static void ReadAdded(BDictionary dict, string key, string flagsKey, int addressLength, List<PexPeer> into)
    {
        var flags = dict.Get<BString>(flagsKey)?.Bytes;
        ReadCompact(dict.Get<BString>(key), addressLength, (endPoint, i) =>
            into.Add(new PexPeer(endPoint, flags is { } f && i < f.Length ? f.Span[i] : (byte)0)));
    }

    private static void ReadCompact(BString? compact, int addressLength, Action<IPEndPoint, int> add)
    {
        if (compact is null) return;
        var bytes = compact.Bytes.Span;
        var entry = addressLength + 2;
        for (int at = 0, i = 0; at + entry <= bytes.Length && i < MaxPeersRead; at += entry, i++)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(at + addressLength, 2));
            if (port == 0) continue;
            add(new IPEndPoint(new IPAddress(bytes.Slice(at, addressLength)), port), i);
        }
    }

    private static bool IsV4(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetwork || endPoint.Address.IsIPv4MappedToIPv6;

    private static byte[] Compact(IEnumerable<IPEndPoint> endPoints, int addressLength)
    {
        var list = endPoints.ToArray();
        var bytes = new byte[list.Length * (addressLength + 2)];
        for (var i = 0; i < list.Length; i++)
        {
            var address = addressLength == 4 && list[i].Address.IsIPv4MappedToIPv6 ? list[i].Address.MapToIPv4() : list[i].Address;
            var at = i * (addressLength + 2);
            address.GetAddressBytes().CopyTo(bytes, at);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at + addressLength), (ushort)list[i].Port);
        }
        return bytes;
    }
}
