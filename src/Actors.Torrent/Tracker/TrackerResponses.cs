using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Bencode;

namespace Actors.Torrent.Tracker;

/// <summary>A peer as it appears in an announce answer.</summary>
public sealed record SwarmPeer(string PeerId, IPAddress Ip, int Port);

/// <summary>Counts for one swarm (BEP 48 scrape; complete/incomplete also in announce answers).</summary>
public sealed record SwarmStats(string InfoHash, int Complete, int Incomplete, long Downloaded);

/// <summary>Bencoded tracker answers (BEP 3, 23, 48). Pure.</summary>
public static class TrackerResponses
{
    public const string ContentType = "text/plain";

    /// <summary>BEP 3: a failed request is still HTTP 200, with a dictionary holding only <c>failure reason</c>.</summary>
    public static byte[] Failure(string reason) =>
        BencodeEncoder.Encode(new BDictionaryBuilder().Add("failure reason", reason).Build());

    public static byte[] Announce(AnnounceRequest request, IReadOnlyList<SwarmPeer> peers, int complete, int incomplete,
        TimeSpan interval, TimeSpan minInterval)
    {
        var answer = new BDictionaryBuilder()
            .Add("complete", complete)
            .Add("incomplete", incomplete)
            .Add("interval", (long)interval.TotalSeconds)
            .Add("min interval", (long)minInterval.TotalSeconds);
        if (request.Compact)
        {
            var v4 = peers.Where(p => p.Ip.AddressFamily == AddressFamily.InterNetwork).ToList();
            var v6 = peers.Where(p => p.Ip.AddressFamily == AddressFamily.InterNetworkV6).ToList();
            answer.Add("peers", Compact(v4, 4));
            if (v6.Count > 0) answer.Add("peers6", Compact(v6, 16));
        }
        else
        {
            answer.Add("peers", new BList(peers.Select(p =>
            {
                var peer = new BDictionaryBuilder().Add("ip", p.Ip.ToString()).Add("port", p.Port);
                if (!request.NoPeerId) peer.Add("peer id", Convert.FromHexString(p.PeerId));
                return (BValue)peer.Build();
            }).ToList()));
        }
        return BencodeEncoder.Encode(answer.Build());
    }

    /// <summary>BEP 48: <c>files</c> keyed by the raw 20-byte info-hash.</summary>
    public static byte[] Scrape(IEnumerable<SwarmStats> swarms)
    {
        var files = new BDictionaryBuilder();
        foreach (var swarm in swarms)
        {
            files.Add(new BString(Convert.FromHexString(swarm.InfoHash)), new BDictionaryBuilder()
                .Add("complete", swarm.Complete)
                .Add("downloaded", swarm.Downloaded)
                .Add("incomplete", swarm.Incomplete)
                .Build());
        }
        return BencodeEncoder.Encode(new BDictionaryBuilder().Add("files", files.Build()).Build());
    }

    /// <summary>BEP 23 (4-byte address) and BEP 7 (16-byte address), each followed by a big-endian port.</summary>
    private static byte[] Compact(IReadOnlyList<SwarmPeer> peers, int addressLength)
    {
        var bytes = new byte[peers.Count * (addressLength + 2)];
        for (var i = 0; i < peers.Count; i++)
        {
            var at = i * (addressLength + 2);
            peers[i].Ip.TryWriteBytes(bytes.AsSpan(at, addressLength), out _);
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at + addressLength), (ushort)peers[i].Port);
        }
        return bytes;
    }
}
