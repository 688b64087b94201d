using System.Buffers.Binary;
using System.Net;
using System.Text;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Tracker;
using Actors.Torrent.Tracker.Udp;
using Xunit;
using AnnounceEvent = Actors.Torrent.Tracker.AnnounceEvent;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>The BEP 15 codec: requests read by the tracker, answers it writes, and our client's side of both.</summary>
public sealed class UdpTrackerPacketsTests
{
    private static readonly TrackerRequestLimits Limits = new(DefaultNumWant: 50, MaxNumWant: 200);
    private static readonly IPAddress V4 = IPAddress.Parse("10.1.2.3");
    private static readonly IPAddress V6 = IPAddress.Parse("2001:db8::7");
    private static readonly byte[] Hash = Enumerable.Range(0, 20).Select(i => (byte)(i + 1)).ToArray();
    private static readonly byte[] PeerId = Encoding.ASCII.GetBytes("-AR1360-abcdefghijkl");

    /// <summary>A BEP 15 announce as a client sends it, field by field.</summary>
    public static byte[] AnnounceBytes(long connectionId = 42, int transactionId = 7, int eventCode = 2, int numWant = -1,
        ushort port = 6881, long left = 1000, long downloaded = 5, long uploaded = 9, byte[]? hash = null, byte[]? peerId = null,
        int extra = 0)
    {
        var bytes = new byte[98 + extra];
        BinaryPrimitives.WriteInt64BigEndian(bytes, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 1);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), transactionId);
        (hash ?? Hash).CopyTo(bytes, 16);
        (peerId ?? PeerId).CopyTo(bytes, 36);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(56), downloaded);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(64), left);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(72), uploaded);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(80), eventCode);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(84), 0x01020304); // ip: ignored
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(88), 0xCAFEBABE);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(92), numWant);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(96), port);
        return bytes;
    }

    public static byte[] ScrapeBytes(long connectionId, int transactionId, params byte[][] hashes)
    {
        var bytes = new byte[16 + 20 * hashes.Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), 2);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), transactionId);
        for (var i = 0; i < hashes.Length; i++) hashes[i].CopyTo(bytes, 16 + 20 * i);
        return bytes;
    }

    [Fact]
    public void A_connect_request_with_the_protocol_id_is_a_connect()
    {
        var request = UdpTrackerPackets.Parse(UdpTrackerAnnounce.ConnectRequest(0x12345678), V4, Limits);
        Assert.Equal(UdpRequestKind.Connect, request.Kind);
        Assert.Equal(0x12345678, request.TransactionId);
    }

    [Theory]
    [InlineData(0, "shorter than 16")]
    [InlineData(15, "shorter than 16")]
    [InlineData(UdpTrackerPackets.MaxRequestLength + 1, "longer than")]
    [InlineData(65_507, "longer than")]
    public void Datagrams_too_short_or_too_long_are_dropped(int length, string why)
    {
        var bytes = new byte[length];
        if (length >= 16) UdpTrackerAnnounce.ConnectRequest(1).CopyTo(bytes, 0);
        var request = UdpTrackerPackets.Parse(bytes, V4, Limits);
        Assert.Equal(UdpRequestKind.Drop, request.Kind);
        Assert.Contains(why, request.Problem);
    }

    [Fact]
    public void A_connect_without_the_protocol_id_is_dropped_not_answered()
    {
        var bytes = UdpTrackerAnnounce.ConnectRequest(1);
        bytes[0] ^= 1;
        Assert.Equal(UdpRequestKind.Drop, UdpTrackerPackets.Parse(bytes, V4, Limits).Kind);
    }

    [Fact]
    public void An_announce_is_read_field_by_field_with_the_datagram_source_as_the_peer_address()
    {
        var request = UdpTrackerPackets.Parse(AnnounceBytes(connectionId: -5, transactionId: -9), V4, Limits);

        Assert.Equal(UdpRequestKind.Announce, request.Kind);
        Assert.Equal(-5, request.ConnectionId);
        Assert.Equal(-9, request.TransactionId);
        var announce = request.Announce!;
        Assert.Equal(Convert.ToHexStringLower(Hash), announce.InfoHash);
        Assert.Equal(Convert.ToHexStringLower(PeerId), announce.PeerId);
        Assert.Equal(V4, announce.Ip); // not 1.2.3.4 from the ip field
        Assert.Equal(6881, announce.Port);
        Assert.Equal(5, announce.Downloaded);
        Assert.Equal(1000, announce.Left);
        Assert.Equal(9, announce.Uploaded);
        Assert.Equal(AnnounceEvent.Started, announce.Event);
        Assert.Equal(50, announce.NumWant);
        Assert.Equal("cafebabe", announce.Key);
        Assert.False(announce.IsSeeder);
    }

    [Theory]
    [InlineData(0, AnnounceEvent.None)]
    [InlineData(1, AnnounceEvent.Completed)]
    [InlineData(2, AnnounceEvent.Started)]
    [InlineData(3, AnnounceEvent.Stopped)]
    public void Announce_events_follow_bep_15_numbering(int code, AnnounceEvent expected)
    {
        Assert.Equal(expected, UdpTrackerPackets.Parse(AnnounceBytes(eventCode: code), V4, Limits).Announce!.Event);
    }

    [Theory]
    [InlineData(-1, false, 50)]
    [InlineData(-100, false, 50)]
    [InlineData(0, false, 0)]
    [InlineData(30, false, 30)]
    [InlineData(1000, false, 196)] // the answer stays within 1200 bytes: 20 + 196 x 6
    [InlineData(1000, true, 65)] // 20 + 65 x 18
    [InlineData(-1, true, 50)]
    public void Numwant_defaults_and_is_capped_so_the_answer_fits_one_unfragmented_datagram(int numWant, bool ipv6, int expected)
    {
        var limits = Limits with { MaxNumWant = 10_000 };
        Assert.Equal(expected, UdpTrackerPackets.Parse(AnnounceBytes(numWant: numWant), ipv6 ? V6 : V4, limits).Announce!.NumWant);
    }

    [Fact]
    public void An_ipv4_mapped_source_counts_as_ipv4()
    {
        var announce = UdpTrackerPackets.Parse(AnnounceBytes(), V4.MapToIPv6(), Limits).Announce!;
        Assert.Equal(V4, announce.Ip);
    }

    [Fact]
    public void Bep_41_options_after_the_announce_are_ignored()
    {
        var bytes = AnnounceBytes(extra: 12);
        bytes[98] = 2; // URLData
        bytes[99] = 9;
        Assert.Equal(UdpRequestKind.Announce, UdpTrackerPackets.Parse(bytes, V4, Limits).Kind);
    }

    [Theory]
    [InlineData("short", "shorter than 98")]
    [InlineData("event", "unknown event")]
    [InlineData("port", "invalid port")]
    [InlineData("left", "negative")]
    [InlineData("action", "unknown action")]
    [InlineData("scrape", "16 + 20 per info-hash")]
    public void Requests_with_a_header_but_a_bad_body_are_invalid_with_a_problem_for_the_error_answer(string what, string problem)
    {
        var bytes = what switch
        {
            "short" => AnnounceBytes()[..97],
            "event" => AnnounceBytes(eventCode: 4),
            "port" => AnnounceBytes(port: 0),
            "left" => AnnounceBytes(left: -1),
            "action" => AnnounceBytes().Select((b, i) => i == 11 ? (byte)9 : b).ToArray(),
            _ => ScrapeBytes(42, 3, Hash)[..35],
        };
        var request = UdpTrackerPackets.Parse(bytes, V4, Limits);
        Assert.Equal(UdpRequestKind.Invalid, request.Kind);
        Assert.Contains(problem, request.Problem);
        Assert.Equal(42, request.ConnectionId);
    }

    [Fact]
    public void A_scrape_lists_its_info_hashes_in_order_even_repeated()
    {
        var other = Enumerable.Repeat((byte)0xAB, 20).ToArray();
        var request = UdpTrackerPackets.Parse(ScrapeBytes(42, 3, Hash, other, Hash), V4, Limits);
        Assert.Equal(UdpRequestKind.Scrape, request.Kind);
        Assert.Equal([Convert.ToHexStringLower(Hash), Convert.ToHexStringLower(other), Convert.ToHexStringLower(Hash)], request.ScrapeHashes);
        Assert.Empty(UdpTrackerPackets.Parse(ScrapeBytes(42, 3), V4, Limits).ScrapeHashes!);
    }

    [Fact]
    public void A_74_hash_scrape_is_the_largest_request_read()
    {
        var hashes = Enumerable.Range(0, 74).Select(i => Enumerable.Repeat((byte)i, 20).ToArray()).ToArray();
        Assert.Equal(74, UdpTrackerPackets.Parse(ScrapeBytes(1, 1, hashes), V4, Limits).ScrapeHashes!.Count);
        Assert.Equal(UdpRequestKind.Drop, UdpTrackerPackets.Parse(ScrapeBytes(1, 1, [.. hashes, Hash]), V4, Limits).Kind);
    }

    [Fact]
    public void Connect_answer_layout()
    {
        var bytes = UdpTrackerPackets.ConnectAnswer(0x0A0B0C0D, 0x1122334455667788);
        Assert.Equal("000000000a0b0c0d1122334455667788", Convert.ToHexStringLower(bytes));
        Assert.Equal(0x1122334455667788, UdpTrackerAnnounce.ParseConnectAnswer(bytes));
    }

    [Fact]
    public void Announce_answer_carries_only_peers_of_the_asking_family_in_6_or_18_byte_entries()
    {
        var peers = new[]
        {
            new SwarmPeer(new string('a', 40), IPAddress.Parse("192.0.2.1"), 1000),
            new SwarmPeer(new string('b', 40), IPAddress.Parse("2001:db8::1"), 2000),
            new SwarmPeer(new string('c', 40), IPAddress.Parse("192.0.2.2"), 65535),
        };
        var v4 = UdpTrackerPackets.AnnounceAnswer(5, TimeSpan.FromMinutes(30), leechers: 3, seeders: 4, peers, ipv6: false);
        Assert.Equal("00000001" + "00000005" + "00000708" + "00000003" + "00000004" + "c000020103e8" + "c0000202ffff",
            Convert.ToHexStringLower(v4));
        var v6 = UdpTrackerPackets.AnnounceAnswer(5, TimeSpan.FromMinutes(30), 3, 4, peers, ipv6: true);
        Assert.Equal(20 + 18, v6.Length);
        Assert.Equal("20010db8000000000000000000000001" + "07d0", Convert.ToHexStringLower(v6[20..]));

        var read = UdpTrackerAnnounce.ParseAnnounceAnswer(v4, ipv6: false);
        Assert.Equal(TimeSpan.FromMinutes(30), read.Interval);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1000), new IPEndPoint(IPAddress.Parse("192.0.2.2"), 65535)], read.Peers);
        Assert.Equal(4, read.Seeders);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("2001:db8::1"), 2000)], UdpTrackerAnnounce.ParseAnnounceAnswer(v6, ipv6: true).Peers);
    }

    [Fact]
    public void Announce_answers_never_exceed_1200_bytes()
    {
        var many = Enumerable.Range(0, 300).Select(i => new SwarmPeer(i.ToString("x40"), new IPAddress(new byte[] { 10, 0, (byte)(i >> 8), (byte)i }), 1 + i)).ToArray();
        var many6 = Enumerable.Range(0, 300).Select(i => new SwarmPeer(i.ToString("x40"), IPAddress.Parse($"2001:db8::{i:x}"), 1 + i)).ToArray();
        Assert.Equal(20 + 196 * 6, UdpTrackerPackets.AnnounceAnswer(1, TimeSpan.FromMinutes(1), 0, 0, many, false).Length);
        Assert.Equal(20 + 65 * 18, UdpTrackerPackets.AnnounceAnswer(1, TimeSpan.FromMinutes(1), 0, 0, many6, true).Length);
    }

    [Fact]
    public void Scrape_answer_gives_seeders_completed_leechers_in_the_order_asked()
    {
        var bytes = UdpTrackerPackets.ScrapeAnswer(9, [new SwarmStats("aa", 1, 2, 3), new SwarmStats("bb", 4, 5, 6)]);
        Assert.Equal("00000002" + "00000009" + "00000001" + "00000003" + "00000002" + "00000004" + "00000006" + "00000005",
            Convert.ToHexStringLower(bytes));
    }

    [Theory]
    [InlineData(1200, "tracker busy, retry later")]
    [InlineData(16, "tracker ")]
    [InlineData(9, "t")]
    [InlineData(8, "")]
    public void Error_answers_are_cut_to_the_size_allowed(int maxLength, string expected)
    {
        var bytes = UdpTrackerPackets.ErrorAnswer(77, "tracker busy, retry later", maxLength)!;
        Assert.True(bytes.Length <= maxLength);
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(bytes));
        Assert.Equal(77, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4)));
        Assert.Equal(expected, Encoding.ASCII.GetString(bytes, 8, bytes.Length - 8));
    }

    [Fact]
    public void No_error_answer_at_all_when_not_even_its_header_fits()
    {
        Assert.Null(UdpTrackerPackets.ErrorAnswer(1, "x", 7));
    }

    [Fact]
    public void Our_client_reads_an_error_packet_as_the_trackers_message()
    {
        var error = UdpTrackerPackets.ErrorAnswer(1, "unknown or expired connection id\u0007")!;
        var ex = Assert.Throws<AnnounceException>(() => UdpTrackerAnnounce.ParseAnnounceAnswer(error, false));
        Assert.Equal("tracker says: unknown or expired connection id", ex.Message);
        Assert.Throws<AnnounceException>(() => UdpTrackerAnnounce.ParseConnectAnswer(error));
    }

    [Fact]
    public void Our_client_announce_is_what_the_tracker_reads()
    {
        var ours = new Actors.Torrent.Peer.Announce.AnnounceRequest(Hash, PeerId, 51413, Uploaded: 1, Downloaded: 2, Left: 3,
            Actors.Torrent.Peer.Announce.AnnounceEvent.Completed, NumWant: 33);
        var bytes = UdpTrackerAnnounce.AnnounceRequest(99, 12, ours, key: 5);
        var read = UdpTrackerPackets.Parse(bytes, V4, Limits);
        Assert.Equal((UdpRequestKind.Announce, 99L, 12), (read.Kind, read.ConnectionId, read.TransactionId));
        Assert.Equal((51413, 1L, 2L, (long?)3L, AnnounceEvent.Completed, 33),
            (read.Announce!.Port, read.Announce.Uploaded, read.Announce.Downloaded, read.Announce.Left, read.Announce.Event, read.Announce.NumWant));
    }

    [Theory]
    [InlineData("udp://tracker.example:6969/announce", "tracker.example", 6969)]
    [InlineData("udp://127.0.0.1:80", "127.0.0.1", 80)]
    [InlineData("UDP://[::1]:1337/announce", "::1", 1337)]
    public void Udp_tracker_urls_give_host_and_port(string url, string host, int port)
    {
        var endPoint = UdpTrackerAnnounce.ParseUrl(url)!;
        Assert.Equal((host, port), (endPoint.Host, endPoint.Port));
    }

    [Theory]
    [InlineData("udp://tracker.example/announce")] // no port
    [InlineData("http://tracker.example:6969/announce")]
    [InlineData("udp//x:1")]
    public void Other_urls_are_not_udp_trackers(string url) => Assert.Null(UdpTrackerAnnounce.ParseUrl(url));

    [Fact]
    public void Random_and_mutated_datagrams_never_throw()
    {
        var random = new Random(15);
        var seeds = new[] { AnnounceBytes(), ScrapeBytes(1, 2, Hash, Hash), UdpTrackerAnnounce.ConnectRequest(3) };
        for (var i = 0; i < 20_000; i++)
        {
            byte[] bytes;
            if (i % 2 == 0)
            {
                bytes = new byte[random.Next(0, 200)];
                random.NextBytes(bytes);
            }
            else
            {
                bytes = seeds[i % 3].ToArray();
                for (var flips = random.Next(1, 4); flips > 0; flips--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                bytes = bytes[..random.Next(bytes.Length + 1)];
            }
            var request = UdpTrackerPackets.Parse(bytes, i % 3 == 0 ? V6 : V4, Limits);
            Assert.True(request.Kind == UdpRequestKind.Drop || bytes.Length >= 16);
        }
    }
}
