using System.Net;
using System.Text;
using Actors.Torrent.Bencode;
using Actors.Torrent.Dht;
using CsCheck;
using Xunit;

namespace Actors.Torrent.Tests.Dht;

public sealed class KrpcCodecTests
{
    private static readonly NodeId A = NodeId.Parse("0123456789abcdef0123456789abcdef01234567");
    private static readonly NodeId B = NodeId.Parse("fedcba9876543210fedcba9876543210fedcba98");
    private static readonly byte[] Tid = "aa"u8.ToArray();

    // The examples of BEP 5, byte for byte (minus our "v" key, which the examples do not carry).
    [Theory]
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", "ping")]
    [InlineData("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe", "find_node")]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe", "get_peers")]
    [InlineData("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe", "announce_peer")]
    public void Decodes_the_queries_of_BEP_5(string packet, string method)
    {
        var query = Assert.IsAssignableFrom<KrpcQuery>(KrpcCodec.Decode(Encoding.ASCII.GetBytes(packet)));
        Assert.Equal(method, query.Method);
        Assert.Equal(Tid, query.TransactionId);
        Assert.Equal(NodeId.FromBytes("abcdefghij0123456789"u8), query.Sender);
        if (query is AnnouncePeerQuery announce)
        {
            Assert.True(announce.ImpliedPort);
            Assert.Equal(6881, announce.Port);
            Assert.Equal("aoeusnth"u8.ToArray(), announce.Token);
            Assert.Equal(NodeId.FromBytes("mnopqrstuvwxyz123456"u8), announce.InfoHash);
        }
    }

    [Fact]
    public void Decodes_a_get_peers_response_with_values_and_token()
    {
        var packet = "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re";
        var response = Assert.IsType<KrpcResponse>(KrpcCodec.Decode(Encoding.ASCII.GetBytes(packet)));
        Assert.Equal("aoeusnth"u8.ToArray(), response.Token);
        Assert.Equal(2, response.Peers.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("97.120.106.101"), ('.' << 8) | 'u'), response.Peers[0]);
        Assert.Empty(response.Nodes);
    }

    [Fact]
    public void Decodes_an_error()
    {
        var error = Assert.IsType<KrpcError>(KrpcCodec.Decode("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"u8));
        Assert.Equal(201, error.Code);
        Assert.Equal("A Generic Error Ocurred", error.Message);
    }

    [Fact]
    public void Compact_node_info_is_26_bytes_id_then_ip_then_port()
    {
        var bytes = CompactEncoding.EncodeNodes([new NodeContact(A, new IPEndPoint(IPAddress.Parse("10.1.2.3"), 0x1AE1))]);
        Assert.Equal(26, bytes.Length);
        Assert.Equal(A.ToBytes(), bytes[..20]);
        Assert.Equal(new byte[] { 10, 1, 2, 3, 0x1A, 0xE1 }, bytes[20..]);
        var back = Assert.Single(CompactEncoding.DecodeNodes(bytes));
        Assert.Equal(A, back.Id);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 6881), back.EndPoint);
    }

    [Fact]
    public void IPv4_mapped_endpoints_are_encoded_as_IPv4_and_IPv6_ones_are_left_out()
    {
        var mapped = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 7000);
        var v6 = new IPEndPoint(IPAddress.IPv6Loopback, 7001);
        var bytes = CompactEncoding.EncodeNodes([new NodeContact(A, mapped), new NodeContact(B, v6)]);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7000), Assert.Single(CompactEncoding.DecodeNodes(bytes)).EndPoint);
    }

    [Theory]
    [InlineData("d1:ad2:id19:abcdefghij012345678e1:q4:ping1:t2:aa1:y1:qe", true)]           // short id
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe", false)]                  // no tid
    [InlineData("d1:q4:ping1:t2:aa1:y1:qe", true)]                                             // no args
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti0e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", true)] // port 0
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti70000e5:token1:xe1:q13:announce_peer1:t2:aa1:y1:qe", true)]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti80ee1:q13:announce_peer1:t2:aa1:y1:qe", true)] // no token
    [InlineData("d1:rd2:id20:abcdefghij01234567895:nodes3:abce1:t2:aa1:y1:re", false)]      // nodes not 26k
    [InlineData("d1:t2:aa1:y1:xe", false)]
    [InlineData("li1ee", false)]
    [InlineData("d1:t2:aa1:y1:q", false)]                                                      // truncated
    public void Refuses_malformed_packets_and_says_whether_to_answer(string packet, bool answerable)
    {
        var ex = Assert.Throws<KrpcException>(() => KrpcCodec.Decode(Encoding.ASCII.GetBytes(packet)));
        Assert.Equal(answerable, ex.IsQuery && ex.TransactionId is not null);
    }

    [Fact]
    public void Refuses_a_datagram_over_1500_bytes_before_parsing_it()
    {
        var big = new byte[KrpcCodec.MaxPacketBytes + 1];
        var ex = Assert.Throws<KrpcException>(() => KrpcCodec.Decode(big));
        Assert.Contains("exceeds", ex.Reason);
    }

    [Fact]
    public void An_unknown_method_decodes_so_it_can_be_answered_with_204()
    {
        var query = Assert.IsType<UnknownQuery>(KrpcCodec.Decode("d1:ad2:id20:abcdefghij0123456789e1:q3:put1:t2:aa1:y1:qe"u8));
        Assert.Equal("put", query.Method);
    }

    [Fact]
    public void Encoded_messages_are_canonical_bencode_and_carry_our_version()
    {
        var packet = KrpcCodec.Encode(new PingQuery(Tid, A));
        var dict = Assert.IsType<BDictionary>(BencodeDecoder.Decode(packet));
        Assert.Equal("AC01", dict.GetText("v"));
        Assert.Equal("q", dict.GetText("y"));
    }

    [Fact]
    public void A_get_peers_answer_carries_at_most_50_peers_and_fits_a_datagram()
    {
        var peers = Enumerable.Range(1, 300).Select(i => new IPEndPoint(IPAddress.Parse($"10.0.{i / 250}.{i % 250 + 1}"), 6881)).ToList();
        var packet = KrpcCodec.Encode(new KrpcResponse(Tid, A, [], peers, new byte[20]));
        Assert.True(packet.Length <= KrpcCodec.MaxPacketBytes);
        Assert.Equal(KrpcCodec.MaxValuesPerResponse, ((KrpcResponse)KrpcCodec.Decode(packet)).Peers.Count);
    }

    // ---- properties ------------------------------------------------------------------------

    private static readonly Gen<NodeId> GenId = Gen.Byte.Array[20].Select(b => NodeId.FromBytes(b));
    private static readonly Gen<byte[]> GenTid = Gen.Byte.Array[1, 8];
    private static readonly Gen<IPEndPoint> GenPeer = Gen.Select(Gen.Byte.Array[4], Gen.Int[1, 65535], (ip, port) => new IPEndPoint(new IPAddress(ip), port));
    private static readonly Gen<NodeContact> GenContact = Gen.Select(GenId, GenPeer, (id, ep) => new NodeContact(id, ep));

    private static readonly Gen<KrpcMessage> GenMessage = Gen.OneOf<KrpcMessage>(
        Gen.Select(GenTid, GenId, (t, s) => (KrpcMessage)new PingQuery(t, s)),
        Gen.Select(GenTid, GenId, GenId, (t, s, x) => (KrpcMessage)new FindNodeQuery(t, s, x)),
        Gen.Select(GenTid, GenId, GenId, (t, s, x) => (KrpcMessage)new GetPeersQuery(t, s, x)),
        Gen.Select(GenTid, GenId, GenId, Gen.Int[1, 65535], Gen.Bool, Gen.Byte.Array[0, 20],
            (t, s, x, p, i, k) => (KrpcMessage)new AnnouncePeerQuery(t, s, x, p, i, k)),
        Gen.Select(GenTid, GenId, GenContact.List[0, 8], GenPeer.List[0, 50], Gen.Byte.Array[0, 20].Null(),
            (t, s, n, p, k) => (KrpcMessage)new KrpcResponse(t, s, n, p, k)),
        Gen.Select(GenTid, Gen.Int[201, 204], Gen.String[Gen.Char.AlphaNumeric, 0, 40], (t, c, m) => (KrpcMessage)new KrpcError(t, c, m)));

    [Fact]
    public void Every_message_round_trips_through_encode_and_decode() =>
        GenMessage.Sample(message =>
        {
            var packet = KrpcCodec.Encode(message);
            Assert.True(packet.Length <= KrpcCodec.MaxPacketBytes, $"{packet.Length} bytes");
            var decoded = KrpcCodec.Decode(packet);
            Assert.Equal(message.GetType(), decoded.GetType());
            Assert.Equal(packet, KrpcCodec.Encode(decoded));
        }, iter: 2000);

    [Fact]
    public void Any_mutation_of_a_valid_packet_decodes_or_is_refused_with_KrpcException() =>
        Gen.Select(GenMessage, Gen.Int[0, 1000], Gen.Byte, (m, at, b) => (m, at, b)).Sample(t =>
        {
            var packet = KrpcCodec.Encode(t.m);
            packet[t.at % packet.Length] = t.b;
            try
            {
                KrpcCodec.Decode(packet);
            }
            catch (KrpcException)
            {
            }
        }, iter: 5000);

    [Fact]
    public void Every_strict_prefix_of_a_valid_packet_is_refused() =>
        GenMessage.Sample(message =>
        {
            var packet = KrpcCodec.Encode(message);
            for (var cut = 0; cut < packet.Length; cut++)
                Assert.Throws<KrpcException>(() => KrpcCodec.Decode(packet.AsSpan(0, cut)));
        }, iter: 200);
}
