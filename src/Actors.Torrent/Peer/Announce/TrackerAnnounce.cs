using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Actors.Torrent.Bencode;

namespace Actors.Torrent.Peer.Announce;

public enum AnnounceEvent { None, Started, Completed, Stopped }

/// <summary>What we tell the tracker (BEP 3 announce parameters).</summary>
public sealed record AnnounceRequest(
    ReadOnlyMemory<byte> InfoHash, ReadOnlyMemory<byte> PeerId, int Port,
    long Uploaded, long Downloaded, long Left, AnnounceEvent Event, int NumWant = 50);

/// <summary>A tracker's answer: the swarm's peers and when to ask again.</summary>
public sealed record AnnounceResponse(TimeSpan Interval, TimeSpan? MinInterval, IReadOnlyList<IPEndPoint> Peers)
{
    /// <summary>Seeders in the swarm as the tracker counts them (<c>complete</c>; BEP 15's seeders), when it says.</summary>
    public int? Seeders { get; init; }
}

public sealed class AnnounceException(string message) : Exception(message);

/// <summary>Builds announce URLs and reads responses (BEP 3, compact peers BEP 23, peers6 BEP 7). Pure.</summary>
public static class TrackerAnnounce
{
    // Lenient about key order, like libtorrent: some trackers (PHP ones) do not sort their keys,
    // and nothing is hashed from an answer.
    private static readonly BencodeLimits Limits = new() { MaxInputBytes = 4 * 1024 * 1024, MaxDepth = 8, MaxElements = 100_000, AllowUnsortedKeys = true };

    public static Uri BuildUrl(string announceUrl, AnnounceRequest request)
    {
        var query = new StringBuilder();
        query.Append("info_hash=").Append(Escape(request.InfoHash.Span))
            .Append("&peer_id=").Append(Escape(request.PeerId.Span))
            .Append("&port=").Append(request.Port.ToString(CultureInfo.InvariantCulture))
            .Append("&uploaded=").Append(request.Uploaded.ToString(CultureInfo.InvariantCulture))
            .Append("&downloaded=").Append(request.Downloaded.ToString(CultureInfo.InvariantCulture))
            .Append("&left=").Append(request.Left.ToString(CultureInfo.InvariantCulture))
            .Append("&compact=1&numwant=").Append(request.NumWant.ToString(CultureInfo.InvariantCulture));
        if (request.Event != AnnounceEvent.None)
            query.Append("&event=").Append(request.Event.ToString().ToLowerInvariant());
        var separator = announceUrl.Contains('?') ? '&' : '?';
        return new Uri(announceUrl + separator + query);
    }

    /// <summary>Percent-encodes raw bytes: unreserved characters stay, everything else is %XX.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
                text.Append((char)b);
            else
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <exception cref="AnnounceException">Not bencode, a failure reason, or no usable fields.</exception>
    public static AnnounceResponse ParseResponse(ReadOnlySpan<byte> body)
    {
        BValue value;
        try
        {
            value = BencodeDecoder.Decode(body, Limits);
        }
        catch (BencodeException ex)
        {
            throw new AnnounceException($"tracker response is not bencode: {ex.Message}");
        }
        if (value is not BDictionary dict) throw new AnnounceException("tracker response is not a dictionary");
        if (dict.GetText("failure reason") is { } failure) throw new AnnounceException($"tracker says: {failure}");
        var interval = dict.GetInteger("interval") is { } s and > 0 ? TimeSpan.FromSeconds(Math.Min(s, 86_400)) : TimeSpan.FromMinutes(30);
        TimeSpan? minInterval = dict.GetInteger("min interval") is { } m and > 0 ? TimeSpan.FromSeconds(Math.Min(m, 86_400)) : null;
        var peers = new List<IPEndPoint>();
        switch (dict["peers"])
        {
            case BString compact:
                ReadCompact(compact.Bytes.Span, 4, peers);
                break;
            case BList list:
                foreach (var item in list.Items.OfType<BDictionary>())
                {
                    if (IPAddress.TryParse(item.GetText("ip") ?? "", out var ip) && item.GetInteger("port") is { } port and > 0 and < 65536)
                        peers.Add(new IPEndPoint(ip, (int)port));
                }
                break;
        }
        if (dict.Get<BString>("peers6") is { } peers6) ReadCompact(peers6.Bytes.Span, 16, peers);
        var seeders = dict.GetInteger("complete") is { } c and >= 0 ? (int)Math.Min(c, int.MaxValue) : (int?)null;
        return new AnnounceResponse(interval, minInterval, peers) { Seeders = seeders };
    }

    private static void ReadCompact(ReadOnlySpan<byte> bytes, int addressLength, List<IPEndPoint> into)
    {
        var entry = addressLength + 2;
        for (var at = 0; at + entry <= bytes.Length; at += entry)
        {
            var port = BinaryPrimitives.ReadUInt16BigEndian(bytes.Slice(at + addressLength, 2));
            if (port == 0) continue;
            into.Add(new IPEndPoint(new IPAddress(bytes.Slice(at, addressLength)), port));
        }
    }
}
