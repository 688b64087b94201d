using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Actors.Torrent.Peer.Announce;

/// <summary>
/// The client side of BEP 15 (UDP tracker): builds connect and announce datagrams and reads the
/// answers. Pure; <see cref="UdpAnnouncer"/> owns the socket and the retransmissions.
/// </summary>
public static class UdpTrackerAnnounce
{
    public const long ProtocolId = 0x41727101980;
    private const int Connect = 0, AnnounceAction = 1, Error = 3;

    /// <summary>Parses <c>udp://host:port[/path]</c>; null when it is not a usable UDP tracker URL.</summary>
    public static DnsEndPoint? ParseUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !uri.Scheme.Equals("udp", StringComparison.OrdinalIgnoreCase)
            || uri.Port is < 1 or > 65535 || uri.Host.Length == 0)
            return null;
        return new DnsEndPoint(uri.Host.Trim('[', ']'), uri.Port);
    }

    public static byte[] ConnectRequest(int transactionId)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(bytes, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), Connect);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), transactionId);
        return bytes;
    }

    public static byte[] AnnounceRequest(long connectionId, int transactionId, AnnounceRequest request, uint key)
    {
        var bytes = new byte[98];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], AnnounceAction);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], transactionId);
        request.InfoHash.Span.CopyTo(span[16..36]);
        request.PeerId.Span.CopyTo(span[36..56]);
        BinaryPrimitives.WriteInt64BigEndian(span[56..], request.Downloaded);
        BinaryPrimitives.WriteInt64BigEndian(span[64..], request.Left);
        BinaryPrimitives.WriteInt64BigEndian(span[72..], request.Uploaded);
        BinaryPrimitives.WriteInt32BigEndian(span[80..], request.Event switch
        {
            AnnounceEvent.Completed => 1,
            AnnounceEvent.Started => 2,
            AnnounceEvent.Stopped => 3,
            _ => 0,
        });
        // 84: ip = 0 (the tracker takes the datagram's source)
        BinaryPrimitives.WriteUInt32BigEndian(span[88..], key);
        BinaryPrimitives.WriteInt32BigEndian(span[92..], request.NumWant);
        BinaryPrimitives.WriteUInt16BigEndian(span[96..], (ushort)request.Port);
        return bytes;
    }

    /// <summary>The transaction id of an answer, or null when the datagram is too short to be one.</summary>
    public static int? TransactionId(ReadOnlySpan<byte> answer) =>
        answer.Length >= 8 ? BinaryPrimitives.ReadInt32BigEndian(answer[4..]) : null;

    /// <exception cref="AnnounceException">An error packet, or not a connect answer.</exception>
    public static long ParseConnectAnswer(ReadOnlySpan<byte> answer)
    {
        ThrowIfError(answer);
        if (answer.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(answer) != Connect)
            throw new AnnounceException("tracker sent something other than a connect answer");
        return BinaryPrimitives.ReadInt64BigEndian(answer[8..]);
    }

    /// <summary>Reads an announce answer: 6-byte peers when asked over IPv4, 18-byte ones over IPv6 (BEP 15).</summary>
    /// <exception cref="AnnounceException">An error packet, or not an announce answer.</exception>
    public static AnnounceResponse ParseAnnounceAnswer(ReadOnlySpan<byte> answer, bool ipv6)
    {
        ThrowIfError(answer);
        if (answer.Length < 20 || BinaryPrimitives.ReadInt32BigEndian(answer) != AnnounceAction)
            throw new AnnounceException("tracker sent something other than an announce answer");
        var seconds = BinaryPrimitives.ReadInt32BigEndian(answer[8..]);
        var interval = seconds > 0 ? TimeSpan.FromSeconds(Math.Min(seconds, 86_400)) : TimeSpan.FromMinutes(30);
        var addressLength = ipv6 ? 16 : 4;
        var entry = addressLength + 2;
        var peers = new List<IPEndPoint>();
        for (var at = 20; at + entry <= answer.Length; at += entry)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(answer.Slice(at + addressLength, 2));
            if (port != 0) peers.Add(new IPEndPoint(new IPAddress(answer.Slice(at, addressLength)), port));
        }
        var seeders = BinaryPrimitives.ReadInt32BigEndian(answer[16..]);
        return new AnnounceResponse(interval, null, peers) { Seeders = seeders >= 0 ? seeders : null };
    }

    private static void ThrowIfError(ReadOnlySpan<byte> answer)
    {
        if (answer.Length >= 8 && BinaryPrimitives.ReadInt32BigEndian(answer) == Error)
        {
            // The message is for people: printable ASCII only, bounded.
            var text = Encoding.ASCII.GetString(answer[8..Math.Min(answer.Length, 8 + 200)]);
            throw new AnnounceException($"tracker says: {new string(text.Where(c => c is >= ' ' and < (char)127).ToArray())}");
        }
    }
}
