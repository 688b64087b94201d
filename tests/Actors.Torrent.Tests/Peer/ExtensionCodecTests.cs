using System.Net;
using System.Security.Cryptography;
using System.Text;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Peer.Wire;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>The BEP 10 handshake, BEP 9 ut_metadata, BEP 11 ut_pex and BEP 6 allowed-fast codecs.</summary>
public sealed class ExtensionCodecTests
{
    [Fact]
    public void Extension_handshake_round_trips()
    {
        var handshake = new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_metadata"] = 2, ["ut_pex"] = 1 },
            MetadataSize = 31_235, ListenPort = 6881, Client = "Actors 0.1", RequestQueue = 512,
            YourIp = IPAddress.Parse("10.1.2.3"),
        };
        var parsed = ExtensionHandshake.Parse(handshake.Encode());
        Assert.Equal(2, parsed.IdOf("ut_metadata"));
        Assert.Equal(1, parsed.IdOf("ut_pex"));
        Assert.Equal(0, parsed.IdOf("lt_donthave"));
        Assert.Equal((31_235L, 6881, "Actors 0.1", 512), (parsed.MetadataSize!.Value, parsed.ListenPort!.Value, parsed.Client, parsed.RequestQueue!.Value));
        Assert.Equal(IPAddress.Parse("10.1.2.3"), parsed.YourIp);
    }

    [Fact]
    public void Extension_handshake_reads_what_aria2_sends()
    {
        // What aria2 1.36 sends (its debug log: ut_metadata=9, tcpPort, metadataSize=0), in its key order.
        var parsed = ExtensionHandshake.Parse("d1:md11:ut_metadatai9e6:ut_pexi8ee13:metadata_sizei0e1:pi46882e1:v12:aria2/1.36.0e"u8);
        Assert.Equal(9, parsed.IdOf("ut_metadata"));
        Assert.Equal(8, parsed.IdOf("ut_pex"));
        Assert.Null(parsed.MetadataSize); // 0: it has none yet
        Assert.Equal(46882, parsed.ListenPort);
        Assert.Equal("aria2/1.36.0", parsed.Client);
    }

    [Fact]
    public void Extension_handshake_is_lenient_on_fields_and_strict_on_shape()
    {
        // Wrong types, disabled (0) and out-of-range ids, a bad port, an odd yourip: ignored, not fatal.
        var parsed = ExtensionHandshake.Parse(
            "d1:md1:ai0e1:bi300e1:c3:xyz11:ut_metadatai3ee13:metadata_size3:abc1:pi70000e4:reqqi99999999e6:yourip3:abce"u8);
        Assert.Equal(["ut_metadata"], parsed.Messages.Keys);
        Assert.Null(parsed.MetadataSize);
        Assert.Null(parsed.ListenPort);
        Assert.Null(parsed.YourIp);
        Assert.Equal(ExtensionHandshake.MaxRequestQueue, parsed.RequestQueue);
        Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Parse("li1ee"u8));
        Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Parse("d1:m"u8));
        Assert.Throws<PeerProtocolException>(() => ExtensionHandshake.Parse(new byte[ExtensionHandshake.MaxPayload + 1]));
    }

    [Fact]
    public void Extension_handshake_bounds_names_and_counts()
    {
        var m = new StringBuilder("d1:md");
        foreach (var i in Enumerable.Range(0, 200).Select(i => $"x{i:D4}").Order(StringComparer.Ordinal)) m.Append($"5:{i}i1e");
        m.Append("e1:v").Append(500).Append(':').Append(new string('v', 500)).Append('e');
        var parsed = ExtensionHandshake.Parse(Encoding.ASCII.GetBytes(m.ToString()));
        Assert.Equal(ExtensionHandshake.MaxExtensions, parsed.Messages.Count);
        Assert.Equal(ExtensionHandshake.MaxClientLength, parsed.Client!.Length);
    }

    [Fact]
    public void Metadata_messages_round_trip()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        MetadataMessage[] messages = [new MetadataMessage.Request(3), new MetadataMessage.Reject(4), new MetadataMessage.Data(1, 17_384, data)];
        foreach (var message in messages)
        {
            var parsed = MetadataMessage.Parse(message.Encode());
            Assert.Equal(message.GetType(), parsed!.GetType());
            Assert.Equal(message.Piece, parsed.Piece);
        }
        var d = Assert.IsType<MetadataMessage.Data>(MetadataMessage.Parse(messages[2].Encode()));
        Assert.Equal(17_384, d.TotalSize);
        Assert.Equal(data, d.Bytes.ToArray());
    }

    [Fact]
    public void Metadata_messages_of_unknown_type_are_ignored_and_malformed_ones_refused()
    {
        Assert.Null(MetadataMessage.Parse("d8:msg_typei7e5:piecei0ee"u8));
        foreach (var bad in new[] { "d5:piecei0ee", "d8:msg_typei0ee", "d8:msg_typei0e5:piecei-1ee", "d8:msg_typei1e5:piecei0ee", "i1e", "d8:msg" })
            Assert.Throws<PeerProtocolException>(() => MetadataMessage.Parse(Encoding.ASCII.GetBytes(bad)));
        var tooBig = new MetadataMessage.Data(0, 40_000, new byte[MetadataMessage.PieceLength + 1]).Encode();
        Assert.Throws<PeerProtocolException>(() => MetadataMessage.Parse(tooBig));
    }

    [Fact]
    public void Metadata_assembler_verifies_against_the_info_hash()
    {
        var info = Enumerable.Range(0, 40_000).Select(i => (byte)(i * 7)).ToArray();
        var hash = SHA1.HashData(info);
        var assembler = new MetadataAssembler(hash, info.Length);
        Assert.Equal(3, assembler.PieceCount);
        foreach (var piece in new[] { 2, 0, 1, 1 })
        {
            var size = assembler.PieceSize(piece);
            assembler.Add(new MetadataMessage.Data(piece, info.Length, info.AsMemory(piece * MetadataMessage.PieceLength, size)));
        }
        Assert.True(assembler.IsComplete);
        Assert.Equal(info, assembler.Verified());

        var liar = new MetadataAssembler(hash, info.Length);
        var forged = (byte[])info.Clone();
        forged[20_000] ^= 1;
        foreach (var piece in new[] { 0, 1, 2 })
            liar.Add(new MetadataMessage.Data(piece, info.Length, forged.AsMemory(piece * MetadataMessage.PieceLength, liar.PieceSize(piece))));
        Assert.Null(liar.Verified());

        Assert.Throws<PeerProtocolException>(() => liar.Add(new MetadataMessage.Data(3, info.Length, new byte[10])));
        Assert.Throws<PeerProtocolException>(() => liar.Add(new MetadataMessage.Data(0, info.Length + 1, new byte[16384])));
        Assert.Throws<PeerProtocolException>(() => liar.Add(new MetadataMessage.Data(2, info.Length, new byte[10])));
    }

    [Fact]
    public void Pex_messages_round_trip_with_flags_and_both_families()
    {
        var message = new PexMessage(
            [new PexPeer(IPEndPoint.Parse("10.0.0.1:6881"), PexPeer.Seed), new PexPeer(IPEndPoint.Parse("[2001:db8::1]:51413"), PexPeer.Reachable),
             new PexPeer(IPEndPoint.Parse("127.0.0.1:1"))],
            [IPEndPoint.Parse("10.0.0.9:7000"), IPEndPoint.Parse("[2001:db8::2]:7001")]);
        var parsed = PexMessage.Parse(message.Encode());
        Assert.Equal(message.Added.OrderBy(p => p.EndPoint.ToString()), parsed.Added.OrderBy(p => p.EndPoint.ToString()));
        Assert.Equal(message.Dropped.OrderBy(p => p.ToString()), parsed.Dropped.OrderBy(p => p.ToString()));
    }

    [Fact]
    public void Pex_reads_at_most_its_bound_and_skips_port_zero()
    {
        var compact = new byte[6 * 1000];
        for (var i = 0; i < 1000; i++)
        {
            compact[i * 6] = 10;
            compact[i * 6 + 3] = (byte)i;
            compact[i * 6 + 5] = (byte)(i % 2); // every other port is 0
        }
        var payload = Encoding.ASCII.GetBytes("d5:added6000:").Concat(compact).Concat("7:added.f3:abce"u8.ToArray()).ToArray();
        var parsed = PexMessage.Parse(payload);
        Assert.Equal(PexMessage.MaxPeersRead / 2, parsed.Added.Count);
        Assert.All(parsed.Added, p => Assert.Equal(1, p.EndPoint.Port));
        Assert.Throws<PeerProtocolException>(() => PexMessage.Parse("5:added"u8));
    }

    [Fact]
    public void Allowed_fast_set_matches_the_BEP_6_example()
    {
        var infoHash = Enumerable.Repeat((byte)0xAA, 20).ToArray();
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188], AllowedFast.Compute(IPAddress.Parse("80.4.4.200"), infoHash, 1313, 7));
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188, 353, 508], AllowedFast.Compute(IPAddress.Parse("80.4.4.200"), infoHash, 1313, 9));
        // The low byte of the address does not matter; tiny torrents get every piece, IPv6 none.
        Assert.Equal(AllowedFast.Compute(IPAddress.Parse("80.4.4.200"), infoHash, 1313), AllowedFast.Compute(IPAddress.Parse("::ffff:80.4.4.7"), infoHash, 1313));
        Assert.Equal([0, 1, 2], AllowedFast.Compute(IPAddress.Parse("80.4.4.200"), infoHash, 3).Order());
        Assert.Empty(AllowedFast.Compute(IPAddress.Parse("2001:db8::1"), infoHash, 1313));
    }
}
