using System.Net;
using Actors.Torrent.Bencode;
using Actors.Torrent.Tracker;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

public sealed class TrackerResponsesTests
{
    private static AnnounceRequest Request(bool compact, bool noPeerId = false) => new(
        new string('a', 40), new string('b', 40), IPAddress.Loopback, 1, 0, 0, 1, AnnounceEvent.None, compact, noPeerId, 50, null, null);

    private static readonly SwarmPeer[] Peers =
    [
        new(Convert.ToHexStringLower("-AR1000-000000000001"u8), IPAddress.Parse("10.0.0.1"), 6881),
        new(Convert.ToHexStringLower("-AR1000-000000000002"u8), IPAddress.Parse("2001:db8::2"), 443),
    ];

    [Fact]
    public void Failure_is_a_dictionary_with_only_the_reason() =>
        Assert.Equal("d14:failure reason11:missing pore"u8.ToArray(), TrackerResponses.Failure("missing por"));

    [Fact]
    public void Compact_answer_has_six_bytes_per_ipv4_peer_and_eighteen_per_ipv6_peer()
    {
        var answer = (BDictionary)BencodeDecoder.Decode(TrackerResponses.Announce(Request(true), Peers, 3, 4, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5)));
        Assert.Equal(3, answer.GetInteger("complete"));
        Assert.Equal(4, answer.GetInteger("incomplete"));
        Assert.Equal(1800, answer.GetInteger("interval"));
        Assert.Equal(300, answer.GetInteger("min interval"));
        Assert.Equal(new byte[] { 10, 0, 0, 1, 0x1A, 0xE1 }, answer.Get<BString>("peers")!.Bytes.ToArray());
        var v6 = answer.Get<BString>("peers6")!.Bytes.ToArray();
        Assert.Equal(18, v6.Length);
        Assert.Equal(IPAddress.Parse("2001:db8::2").GetAddressBytes(), v6[..16]);
        Assert.Equal(new byte[] { 0x01, 0xBB }, v6[16..]);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 0, 1)]
    [InlineData(9, 10, 2)]
    [InlineData(50, 1_000_000, 0)]
    public void Compact_answer_is_the_canonical_bencoding_of_its_dictionary(int ipv4Peers, int complete, int ipv6Peers)
    {
        var peers = Enumerable.Range(0, ipv4Peers).Select(i => new SwarmPeer(new string('c', 40), new IPAddress([10, 0, (byte)(i / 256), (byte)i]), 1000 + i))
            .Concat(Enumerable.Range(0, ipv6Peers).Select(i => new SwarmPeer(new string('d', 40), IPAddress.Parse($"2001:db8::{i + 1}"), 65535 - i)))
            .ToArray();
        var bytes = TrackerResponses.Announce(Request(true), peers, complete, 12345, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5));
        // Decoding and encoding again with our own codec gives the same bytes (sorted keys, canonical integers).
        Assert.Equal(bytes, BencodeEncoder.Encode(BencodeDecoder.Decode(bytes)));
        var answer = (BDictionary)BencodeDecoder.Decode(bytes);
        Assert.Equal(complete, answer.GetInteger("complete"));
        Assert.Equal(ipv4Peers * 6, answer.Get<BString>("peers")!.Bytes.Length);
        Assert.Equal(ipv6Peers > 0, answer.ContainsKey("peers6"));
    }

    [Fact]
    public void Dictionary_answer_lists_ip_port_and_peer_id_unless_no_peer_id()
    {
        var answer = (BDictionary)BencodeDecoder.Decode(TrackerResponses.Announce(Request(false), Peers, 0, 0, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)));
        var first = (BDictionary)answer.GetList("peers")![0];
        Assert.Equal("10.0.0.1", first.GetText("ip"));
        Assert.Equal(6881, first.GetInteger("port"));
        Assert.Equal("-AR1000-000000000001", first.GetText("peer id"));
        Assert.Equal("2001:db8::2", ((BDictionary)answer.GetList("peers")![1]).GetText("ip"));

        var anonymous = (BDictionary)BencodeDecoder.Decode(TrackerResponses.Announce(Request(false, noPeerId: true), Peers, 0, 0, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)));
        Assert.False(((BDictionary)anonymous.GetList("peers")![0]).ContainsKey("peer id"));
    }

    [Fact]
    public void Scrape_is_keyed_by_the_raw_info_hash()
    {
        var hash = Enumerable.Range(0, 20).Select(i => (byte)(255 - i)).ToArray();
        var answer = (BDictionary)BencodeDecoder.Decode(TrackerResponses.Scrape([new SwarmStats(Convert.ToHexStringLower(hash), 2, 5, 7)]));
        var file = (BDictionary)answer.GetDictionary("files")!.Entries.Single().Value;
        Assert.Equal(hash, answer.GetDictionary("files")!.Entries.Single().Key.Bytes.ToArray());
        Assert.Equal(2, file.GetInteger("complete"));
        Assert.Equal(5, file.GetInteger("incomplete"));
        Assert.Equal(7, file.GetInteger("downloaded"));
    }
}
