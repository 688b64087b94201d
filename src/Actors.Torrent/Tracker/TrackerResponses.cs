using System.Buffers.Binary;
using Actors.Torrent.Bencode;

namespace Actors.Torrent.Tracker;

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
            answer.Add("peers", Compact(peers, ipv4: true));
            if (peers.Any(p => !p.Address.IsIPv4)) answer.Add("peers6", Compact(peers, ipv4: false));
        }
        else
        {
            answer.Add("peers", new BList(peers.Select(p =>
            {
                var peer = new BDictionaryBuilder().Add("ip", p.Ip.ToString()).Add("port", p.Port);
                if (!request.NoPeerId) peer.Add("peer id", p.PeerId.ToBytes());
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
    private static byte[] Compact(IReadOnlyList<SwarmPeer> peers, bool ipv4)
    {
        var count = 0;
        foreach (var peer in peers) if (peer.Address.IsIPv4 == ipv4) count++;
        var size = ipv4 ? 6 : 18;
        var bytes = new byte[count * size];
        var at = 0;
        foreach (var peer in peers)
        {
            if (peer.Address.IsIPv4 != ipv4) continue;
            var length = peer.Address.WriteCompact(bytes.AsSpan(at));
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at + length), (ushort)peer.Port);
            at += size;
        }
        return bytes;
    }
}
