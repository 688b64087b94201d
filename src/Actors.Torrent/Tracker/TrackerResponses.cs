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
        if (request.Compact) return CompactAnnounce(peers, complete, incomplete, (long)interval.TotalSeconds, (long)minInterval.TotalSeconds);
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

    /// <summary>
    /// The compact answer (nearly every client asks for it) written straight into one exactly-sized
    /// array: the same bytes the dictionary builder produces (keys in sorted order), without a
    /// dictionary, a list or an intermediate array per answer.
    /// </summary>
    private static byte[] CompactAnnounce(IReadOnlyList<SwarmPeer> list, int complete, int incomplete, long interval, long minInterval)
    {
        // The registry answers with an array: walk it as a span, not through the interface.
        ReadOnlySpan<SwarmPeer> peers = list as SwarmPeer[] ?? [.. list];
        int v4 = 0, v6 = 0;
        foreach (ref readonly var peer in peers) if (peer.Address.IsIPv4) v4++; else v6++;
        var size = 2 + "8:complete".Length + IntegerSize(complete) + "10:incomplete".Length + IntegerSize(incomplete)
            + "8:interval".Length + IntegerSize(interval) + "12:min interval".Length + IntegerSize(minInterval)
            + "5:peers".Length + StringSize(v4 * 6) + (v6 > 0 ? "6:peers6".Length + StringSize(v6 * 18) : 0);
        var bytes = new byte[size];
        var w = new SpanWriter(bytes);
        w.Raw("d8:complete"u8);
        w.Integer(complete);
        w.Raw("10:incomplete"u8);
        w.Integer(incomplete);
        w.Raw("8:interval"u8);
        w.Integer(interval);
        w.Raw("12:min interval"u8);
        w.Integer(minInterval);
        w.Raw("5:peers"u8);
        w.Peers(peers, v4, ipv4: true);
        if (v6 > 0)
        {
            w.Raw("6:peers6"u8);
            w.Peers(peers, v6, ipv4: false);
        }
        w.Raw("e"u8);
        return w.Position == size ? bytes : throw new InvalidOperationException("compact answer size miscounted");
    }

    private static int Digits(long value)
    {
        var digits = 1;
        for (var v = Math.Abs(value); v >= 10; v /= 10) digits++;
        return value < 0 ? digits + 1 : digits;
    }

    private static int IntegerSize(long value) => 2 + Digits(value);

    private static int StringSize(int length) => Digits(length) + 1 + length;

    private ref struct SpanWriter(Span<byte> bytes)
    {
        private readonly Span<byte> _bytes = bytes;
        public int Position { get; private set; }

        public void Raw(ReadOnlySpan<byte> raw)
        {
            raw.CopyTo(_bytes[Position..]);
            Position += raw.Length;
        }

        public void Integer(long value)
        {
            _bytes[Position++] = (byte)'i';
            Number(value);
            _bytes[Position++] = (byte)'e';
        }

        public void Peers(ReadOnlySpan<SwarmPeer> peers, int count, bool ipv4)
        {
            var size = ipv4 ? 6 : 18;
            Number(count * size);
            _bytes[Position++] = (byte)':';
            foreach (ref readonly var peer in peers)
            {
                if (peer.Address.IsIPv4 != ipv4) continue;
                var length = peer.Address.WriteCompact(_bytes[Position..]);
                BinaryPrimitives.WriteUInt16BigEndian(_bytes[(Position + length)..], (ushort)peer.Port);
                Position += size;
            }
        }

        private void Number(long value)
        {
            value.TryFormat(_bytes[Position..], out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
            Position += written;
        }
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
