using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Actors.Torrent.Tracker.Udp;

/// <summary>BEP 15 action numbers.</summary>
public enum UdpTrackerAction { Connect = 0, Announce = 1, Scrape = 2, Error = 3 }

/// <summary>What a datagram turned out to be.</summary>
public enum UdpRequestKind
{
    /// <summary>Not a BEP 15 request (too short, too long, a connect without the protocol magic): no answer at all.</summary>
    Drop,
    Connect,
    Announce,
    Scrape,
    /// <summary>A request with a header but a bad body or an unknown action: answered by an error packet (if its connection id is good).</summary>
    Invalid,
}

/// <summary>
/// One parsed request. <see cref="ConnectionId"/> is unchecked here: the actor checks it (it holds
/// the secret) before acting on anything but a <see cref="UdpRequestKind.Connect"/>.
/// </summary>
public readonly record struct UdpTrackerRequest(
    UdpRequestKind Kind,
    long ConnectionId,
    int TransactionId,
    AnnounceRequest? Announce,
    IReadOnlyList<string>? ScrapeHashes,
    string? Problem)
{
    public static UdpTrackerRequest Drop(string why) => new(UdpRequestKind.Drop, 0, 0, null, null, why);
}

/// <summary>
/// The BEP 15 UDP tracker wire format, both ways (requests in, answers out; and the client side for
/// our peer's announcer). Pure: no sockets, no actors, big-endian throughout.
/// </summary>
/// <remarks>
/// Sizes: connect 16 bytes each way; announce request 98 bytes (BEP 41 options after them are
/// ignored); announce answer 20 bytes + 6 per IPv4 peer or 18 per IPv6 peer; scrape request 16 + 20
/// per info-hash, answer 8 + 12 per info-hash; error 8 + the message.
/// </remarks>
public static class UdpTrackerPackets
{
    /// <summary>The magic constant that opens every connect request.</summary>
    public const long ProtocolId = 0x41727101980;

    public const int HeaderLength = 16;
    public const int ConnectLength = 16;
    public const int AnnounceRequestLength = 98;
    public const int AnnounceAnswerHeader = 20;
    public const int ScrapeAnswerHeader = 8;
    public const int ErrorHeader = 8;

    /// <summary>BEP 15: "up to about 74 torrents can be scraped at once" (16 + 74 × 20 = 1496 bytes).</summary>
    public const int MaxScrapeHashes = 74;

    /// <summary>Largest request taken: a full scrape, or an announce with BEP 41 options. Longer datagrams are dropped unread.</summary>
    public const int MaxRequestLength = HeaderLength + MaxScrapeHashes * 20;

    /// <summary>
    /// Answers stay within 1200 bytes (under IPv6's minimum MTU of 1280 less headers), so they are
    /// never fragmented: at most 196 IPv4 or 65 IPv6 peers per announce answer.
    /// </summary>
    public const int MaxAnswerLength = 1200;

    public static int MaxPeers(bool ipv6) => (MaxAnswerLength - AnnounceAnswerHeader) / (ipv6 ? 18 : 6);

    /// <summary>
    /// Reads one request datagram from <paramref name="source"/>. The peer's address is always the
    /// datagram's source (the request's <c>ip</c> field is ignored, as opentracker does: over UDP
    /// a spoofed address is the very thing the connection id guards against).
    /// </summary>
    public static UdpTrackerRequest Parse(ReadOnlySpan<byte> packet, IPAddress source, TrackerRequestLimits limits)
    {
        if (packet.Length < HeaderLength) return UdpTrackerRequest.Drop("shorter than 16 bytes");
        if (packet.Length > MaxRequestLength) return UdpTrackerRequest.Drop($"longer than {MaxRequestLength} bytes");
        var connectionId = BinaryPrimitives.ReadInt64BigEndian(packet);
        var action = BinaryPrimitives.ReadInt32BigEndian(packet[8..]);
        var transactionId = BinaryPrimitives.ReadInt32BigEndian(packet[12..]);
        switch (action)
        {
            case (int)UdpTrackerAction.Connect:
                return connectionId == ProtocolId
                    ? new UdpTrackerRequest(UdpRequestKind.Connect, connectionId, transactionId, null, null, null)
                    : UdpTrackerRequest.Drop("connect without the protocol id");
            case (int)UdpTrackerAction.Announce:
                return ParseAnnounce(packet, connectionId, transactionId, source, limits);
            case (int)UdpTrackerAction.Scrape:
                return ParseScrape(packet, connectionId, transactionId);
            default:
                return Invalid(connectionId, transactionId, "unknown action");
        }
    }

    private static UdpTrackerRequest Invalid(long connectionId, int transactionId, string problem) =>
        new(UdpRequestKind.Invalid, connectionId, transactionId, null, null, problem);

    private static UdpTrackerRequest ParseAnnounce(ReadOnlySpan<byte> packet, long connectionId, int transactionId,
        IPAddress source, TrackerRequestLimits limits)
    {
        if (packet.Length < AnnounceRequestLength) return Invalid(connectionId, transactionId, "announce shorter than 98 bytes");
        var infoHash = packet.Slice(16, 20);
        var peerId = packet.Slice(36, 20);
        var downloaded = BinaryPrimitives.ReadInt64BigEndian(packet[56..]);
        var left = BinaryPrimitives.ReadInt64BigEndian(packet[64..]);
        var uploaded = BinaryPrimitives.ReadInt64BigEndian(packet[72..]);
        var eventCode = BinaryPrimitives.ReadInt32BigEndian(packet[80..]);
        // 84..88: ip (ignored, see Parse); 88..92: key (kept as hex, like the HTTP key, and not used)
        var key = BinaryPrimitives.ReadUInt32BigEndian(packet[88..]);
        var numWant = BinaryPrimitives.ReadInt32BigEndian(packet[92..]);
        var port = BinaryPrimitives.ReadUInt16BigEndian(packet[96..]);

        AnnounceEvent announceEvent;
        switch (eventCode)
        {
            case 0: announceEvent = AnnounceEvent.None; break;
            case 1: announceEvent = AnnounceEvent.Completed; break;
            case 2: announceEvent = AnnounceEvent.Started; break;
            case 3: announceEvent = AnnounceEvent.Stopped; break;
            default: return Invalid(connectionId, transactionId, "unknown event");
        }
        if (port == 0) return Invalid(connectionId, transactionId, "invalid port");
        if (downloaded < 0 || left < 0 || uploaded < 0) return Invalid(connectionId, transactionId, "negative byte count");

        var address = TrackerRequestParser.Normalise(source);
        var ipv6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        // -1 (and any negative) means "the default"; the answer must fit one unfragmented datagram.
        var want = numWant < 0 ? limits.DefaultNumWant : Math.Min(numWant, limits.MaxNumWant);
        want = Math.Min(want, MaxPeers(ipv6));
        var request = new AnnounceRequest(
            Convert.ToHexStringLower(infoHash), Convert.ToHexStringLower(peerId), address, port,
            uploaded, downloaded, left, announceEvent, Compact: true, NoPeerId: true, want,
            key.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), TrackerId: null);
        return new UdpTrackerRequest(UdpRequestKind.Announce, connectionId, transactionId, request, null, null);
    }

    private static UdpTrackerRequest ParseScrape(ReadOnlySpan<byte> packet, long connectionId, int transactionId)
    {
        var body = packet[HeaderLength..];
        if (body.Length % 20 != 0) return Invalid(connectionId, transactionId, "scrape length is not 16 + 20 per info-hash");
        var count = body.Length / 20;
        var hashes = new string[count];
        for (var i = 0; i < count; i++) hashes[i] = Convert.ToHexStringLower(body.Slice(i * 20, 20));
        return new UdpTrackerRequest(UdpRequestKind.Scrape, connectionId, transactionId, null, hashes, null);
    }

    // ------------------------------------------------------------------ answers (server side)

    public static byte[] ConnectAnswer(int transactionId, long connectionId)
    {
        var bytes = new byte[ConnectLength];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)UdpTrackerAction.Connect);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), transactionId);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8), connectionId);
        return bytes;
    }

    /// <summary>
    /// The announce answer: peers of the request's address family only (BEP 15: an IPv6 request
    /// gets 18-byte entries; an IPv4 one 6-byte entries), at most <see cref="MaxPeers"/>.
    /// </summary>
    public static byte[] AnnounceAnswer(int transactionId, TimeSpan interval, int leechers, int seeders,
        IReadOnlyList<SwarmPeer> peers, bool ipv6)
    {
        var entry = ipv6 ? 18 : 6;
        var count = 0;
        foreach (var peer in peers) if (peer.Address.IsIPv4 != ipv6) count++;
        count = Math.Min(count, MaxPeers(ipv6));
        var bytes = new byte[AnnounceAnswerHeader + count * entry];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)UdpTrackerAction.Announce);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), transactionId);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), (int)Math.Min(int.MaxValue, (long)interval.TotalSeconds));
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), leechers);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), seeders);
        var at = AnnounceAnswerHeader;
        foreach (var peer in peers)
        {
            if (peer.Address.IsIPv4 == ipv6) continue;
            if (at >= bytes.Length) break;
            var length = peer.Address.WriteCompact(bytes.AsSpan(at));
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at + length), (ushort)peer.Port);
            at += entry;
        }
        return bytes;
    }

    /// <summary>Seeders, completed, leechers for each swarm, in the order asked.</summary>
    public static byte[] ScrapeAnswer(int transactionId, IReadOnlyList<SwarmStats> swarms)
    {
        var bytes = new byte[ScrapeAnswerHeader + swarms.Count * 12];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)UdpTrackerAction.Scrape);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), transactionId);
        for (var i = 0; i < swarms.Count; i++)
        {
            var at = ScrapeAnswerHeader + i * 12;
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), swarms[i].Complete);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at + 4), (int)Math.Min(int.MaxValue, swarms[i].Downloaded));
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at + 8), swarms[i].Incomplete);
        }
        return bytes;
    }

    /// <summary>
    /// An error packet whose message is cut to keep the whole packet within
    /// <paramref name="maxLength"/> bytes; null when not even the 8-byte header fits. This is how
    /// an answer to an unproven source is kept no bigger than its request (no amplification).
    /// </summary>
    public static byte[]? ErrorAnswer(int transactionId, string message, int maxLength = MaxAnswerLength)
    {
        if (maxLength < ErrorHeader) return null;
        var text = Encoding.UTF8.GetBytes(message);
        var length = Math.Min(text.Length, maxLength - ErrorHeader);
        var bytes = new byte[ErrorHeader + length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, (int)UdpTrackerAction.Error);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), transactionId);
        text.AsSpan(0, length).CopyTo(bytes.AsSpan(ErrorHeader));
        return bytes;
    }
}
