using System.Net;
using Actors.Torrent.Tracker;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

public sealed class TrackerRequestParserTests
{
    private static readonly IPAddress Remote = IPAddress.Parse("::ffff:10.1.2.3");
    private static readonly TrackerRequestLimits Limits = new();
    private static readonly byte[] Hash = Enumerable.Range(0, 20).Select(i => (byte)(i * 13 + 250)).ToArray();
    private static readonly string HashQ = TrackerQuery.Encode(Hash);
    private static readonly string Valid = $"info_hash={HashQ}&peer_id=-AR1000-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=100";

    private static Parsed<AnnounceRequest> Parse(string query) => TrackerRequestParser.ParseAnnounce(query, Remote, Limits);

    [Fact]
    public void A_valid_announce_keeps_the_binary_info_hash_and_normalises_the_remote_address()
    {
        var parsed = Parse(Valid + "&event=started&compact=1&key=k1&trackerid=t1");
        Assert.False(parsed.IsFailure, parsed.Failure);
        var request = parsed.Value!;
        Assert.Equal(Convert.ToHexStringLower(Hash), request.InfoHash);
        Assert.Equal(Convert.ToHexStringLower("-AR1000-abcdefghijkl"u8), request.PeerId);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), request.Ip);
        Assert.Equal(6881, request.Port);
        Assert.Equal(100, request.Left);
        Assert.Equal(AnnounceEvent.Started, request.Event);
        Assert.True(request.Compact);
        Assert.Equal(50, request.NumWant);
        Assert.Equal("k1", request.Key);
        Assert.Equal("t1", request.TrackerId);
        Assert.False(request.IsSeeder);
    }

    [Fact]
    public void Every_byte_value_round_trips_through_percent_encoding()
    {
        for (var start = 0; start < 256; start += 20)
        {
            var hash = Enumerable.Range(start, 20).Select(i => (byte)i).ToArray();
            var parsed = Parse($"info_hash={TrackerQuery.Encode(hash)}&peer_id={TrackerQuery.Encode(hash)}&port=1");
            Assert.Equal(Convert.ToHexStringLower(hash), parsed.Value!.InfoHash);
        }
        // Lower-case hex escapes and literal unreserved characters are the same bytes.
        Assert.Equal(Convert.FromHexString("41ff"), TrackerQuery.Decode("A%fF"));
    }

    [Theory]
    [InlineData("peer_id=-AR1000-abcdefghijkl&port=1", "missing info_hash")]
    [InlineData("info_hash=abc&peer_id=-AR1000-abcdefghijkl&port=1", "info_hash must be 20 bytes")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1", "info_hash must be 20 bytes")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&port=1", "missing peer_id")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=short&port=1", "peer_id must be 20 bytes")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl", "missing port")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=0", "invalid port")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=65536", "invalid port")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=-1", "invalid port")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=http", "invalid port")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&uploaded=1e5", "invalid uploaded")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&downloaded=-5", "invalid downloaded")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&left=99999999999999999999", "invalid left")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&event=finished", "unknown event")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&compact=yes", "invalid compact")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&no_peer_id=2", "invalid no_peer_id")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1&numwant=lots", "invalid numwant")]
    [InlineData("info_hash=aaaaaaaaaaaaaaaaaaaa&info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=-AR1000-abcdefghijkl&port=1", "info_hash given more than once")]
    [InlineData("info_hash=%zz&peer_id=-AR1000-abcdefghijkl&port=1", "malformed query string")]
    [InlineData("info_hash=%4&peer_id=-AR1000-abcdefghijkl&port=1", "malformed query string")]
    [InlineData("info_hash=a b&port=1", "malformed query string")]
    [InlineData("info_hash=\u00e9&port=1", "malformed query string")]
    [InlineData("", "missing info_hash")]
    public void Bad_announces_get_a_failure_reason(string query, string reason)
    {
        var parsed = Parse(query);
        Assert.True(parsed.IsFailure);
        Assert.Equal(reason, parsed.Failure);
    }

    [Theory]
    [InlineData(null, 50)]
    [InlineData("0", 0)]
    [InlineData("10", 10)]
    [InlineData("200", 200)]
    [InlineData("201", 200)]
    [InlineData("999999999999", 200)]
    [InlineData("-1", 50)]
    public void Numwant_defaults_and_is_capped(string? numWant, int expected)
    {
        var parsed = Parse(numWant is null ? Valid : Valid + "&numwant=" + numWant);
        Assert.Equal(expected, parsed.Value!.NumWant);
    }

    [Theory]
    [InlineData("1.2.3.4", "1.2.3.4")]
    [InlineData("::ffff:1.2.3.4", "1.2.3.4")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("tracker.example.org", "10.1.2.3")]
    [InlineData("", "10.1.2.3")]
    public void The_ip_parameter_is_used_only_when_it_is_a_literal_address(string ip, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), Parse(Valid + "&ip=" + Uri.EscapeDataString(ip)).Value!.Ip);

    [Fact]
    public void Oversized_and_overlong_queries_are_refused()
    {
        Assert.Equal("query too long", Parse(Valid + "&x=" + new string('a', 9000)).Failure);
        var many = string.Join('&', Enumerable.Range(0, 200).Select(i => $"p{i}=1"));
        Assert.Equal("too many query parameters", Parse(many).Failure);
    }

    [Fact]
    public void Garbage_and_truncated_queries_never_throw()
    {
        var random = new Random(42);
        const string alphabet = "%&=+aZ09_-.~?#\u00ff\u0000 ";
        for (var i = 0; i < 5000; i++)
        {
            var cut = Valid[..random.Next(Valid.Length + 1)];
            var garbage = new string(Enumerable.Range(0, random.Next(0, 80)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            _ = Parse(cut);
            _ = Parse(garbage);
            _ = Parse(cut + garbage);
            _ = TrackerRequestParser.ParseScrape(garbage, Limits);
        }
    }

    [Fact]
    public void Scrape_takes_several_info_hashes_and_checks_their_length()
    {
        var other = new byte[20];
        var parsed = TrackerRequestParser.ParseScrape($"info_hash={HashQ}&info_hash={TrackerQuery.Encode(other)}", Limits);
        Assert.Equal([Convert.ToHexStringLower(Hash), Convert.ToHexStringLower(other)], parsed.Value!.InfoHashes);
        Assert.Empty(TrackerRequestParser.ParseScrape(null, Limits).Value!.InfoHashes);
        Assert.Equal("info_hash must be 20 bytes", TrackerRequestParser.ParseScrape("info_hash=abc", Limits).Failure);
        var tooMany = string.Join('&', Enumerable.Range(0, 65).Select(i => "info_hash=" + TrackerQuery.Encode(BitConverter.GetBytes(i).Concat(new byte[16]).ToArray())));
        Assert.Equal("at most 64 info_hash per scrape", TrackerRequestParser.ParseScrape(tooMany, Limits).Failure);
    }
}
