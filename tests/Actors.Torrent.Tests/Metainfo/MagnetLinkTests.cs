using System.Net;
using Actors.Torrent.Metainfo;
using Xunit;

namespace Actors.Torrent.Tests.Metainfo;

public sealed class MagnetLinkTests
{
    private const string Hex = "8dae8bf4fca04bbb9c645d54facad9b07f307113";

    [Fact]
    public void Hex_link_with_name_trackers_and_peers()
    {
        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{Hex.ToUpperInvariant()}&dn=my+file%20.bin&tr=http%3A%2F%2Ft1%2Fannounce&tr=udp://t2:6969&x.pe=127.0.0.1:6881&x.pe=[::1]:51413");
        Assert.Equal(Hex, link.InfoHashHex);
        Assert.Equal("my file .bin", link.DisplayName);
        Assert.Equal(["http://t1/announce", "udp://t2:6969"], link.Trackers);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:6881"), IPEndPoint.Parse("[::1]:51413")], link.Peers);
    }

    [Fact]
    public void Base32_info_hash_equals_its_hex_form()
    {
        // RFC 4648 base32 of the same 20 bytes.
        var base32 = ToBase32(Convert.FromHexString(Hex));
        Assert.Equal(32, base32.Length);
        Assert.Equal(Hex, MagnetLink.Parse($"magnet:?xt=urn:btih:{base32}").InfoHashHex);
        Assert.Equal(Hex, MagnetLink.Parse($"magnet:?xt=urn:btih:{base32.ToLowerInvariant()}").InfoHashHex);
    }

    [Fact]
    public void Numbered_keys_and_v2_hashes_beside_v1()
    {
        var link = MagnetLink.Parse($"magnet:?xt.1=urn:btmh:1220abcd&xt.2=urn:btih:{Hex}&tr.1=http://a/announce&tr.2=http://b/announce");
        Assert.Equal(Hex, link.InfoHashHex);
        Assert.Equal(2, link.Trackers.Count);
    }

    [Theory]
    [InlineData("http://example.com/x.torrent", "not a magnet link")]
    [InlineData("magnet:?dn=x", "no 'xt=urn:btih:'")]
    [InlineData("magnet:?xt=urn:btmh:1220abcd", "only a BitTorrent v2 hash")]
    [InlineData("magnet:?xt=urn:btih:1234", "has 4 characters")]
    [InlineData("magnet:?xt=urn:btih:zz2e8bf4fca04bbb9c645d54facad9b07f307113", "not 40 hex digits")]
    [InlineData("magnet:?xt=urn:btih:11111111111111111111111111111111", "not base32")]
    [InlineData("magnet:?xt=urn:btih:8dae8bf4fca04bbb9c645d54facad9b07f307113&tr=ftp://x", "not an http, https or udp URL")]
    [InlineData("magnet:?xt=urn:btih:8dae8bf4fca04bbb9c645d54facad9b07f307113&x.pe=host:1", "not IP:PORT")]
    public void Bad_links_are_refused_with_a_clear_reason(string text, string reason)
    {
        var ex = Assert.Throws<MetainfoException>(() => MagnetLink.Parse(text));
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void A_torrents_magnet_link_parses_back_and_its_metadata_rebuilds_the_torrent()
    {
        using var temp = new TempDirectory();
        temp.WriteFile("f.bin", TempDirectory.RandomBytes(1, 100_000));
        var bytes = TorrentCreator.Create(temp.Combine("f.bin"),
            new TorrentCreateOptions { Trackers = ["http://127.0.0.1:1/announce", "udp://127.0.0.1:2"] });
        var torrent = TorrentMetainfo.Parse(bytes);
        var text = MagnetLink.From(torrent).ToString();
        Assert.StartsWith($"magnet:?xt=urn:btih:{torrent.InfoHashHex}&dn=f.bin&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce&tr=udp", text);
        var link = MagnetLink.Parse(text);
        Assert.Equal(torrent.InfoHashHex, link.InfoHashHex);
        Assert.Equal(["http://127.0.0.1:1/announce", "udp://127.0.0.1:2"], link.Trackers);

        var rebuilt = MetadataTorrent.Parse(torrent.RawInfo.Span, link.Trackers);
        Assert.Equal(torrent.InfoHashHex, rebuilt.InfoHashHex);
        Assert.Equal(torrent.TotalLength, rebuilt.TotalLength);
        Assert.Equal(link.Trackers, rebuilt.TrackerTiers.SelectMany(t => t));
    }

    private static string ToBase32(byte[] bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var text = new System.Text.StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                text.Append(alphabet[(buffer >> bits) & 31]);
            }
        }
        return text.ToString();
    }
}
