using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

public sealed class WireCodecTests
{
    private static readonly WireLimits Limits = new(PieceCount: 21);

    private static Handshake SampleHandshake() =>
        new(new byte[8], Enumerable.Range(0, 20).Select(i => (byte)i).ToArray(), "-AC0001-abcdefghijkl"u8.ToArray());

    private static WireMessage[] AllMessages()
    {
        var bits = new PieceSet(21);
        bits.Add(0); bits.Add(7); bits.Add(20);
        return
        [
            WireMessage.KeepAlive.Instance, WireMessage.Choke.Instance, WireMessage.Unchoke.Instance,
            WireMessage.Interested.Instance, WireMessage.NotInterested.Instance, new WireMessage.Have(20),
            new WireMessage.Bitfield(bits.ToWire()), new WireMessage.Request(3, 16384, 16384),
            new WireMessage.Piece(2, 0, Enumerable.Range(0, 16384).Select(i => (byte)i).ToArray()),
            new WireMessage.Cancel(3, 16384, 16384), new WireMessage.Port(6881), new WireMessage.Port(65535),
            new WireMessage.Suggest(4), WireMessage.HaveAll.Instance, WireMessage.HaveNone.Instance,
            new WireMessage.Reject(5, 0, 16384), new WireMessage.AllowedFast(6),
            new WireMessage.Extended(0, "d1:md11:ut_metadatai2eee"u8.ToArray()),
            new WireMessage.Extended(2, new byte[WireLimits.MaxExtendedLength - 1]),
        ];
    }

    private static byte[] Stream(IEnumerable<WireMessage> messages) =>
        SampleHandshake().Encode().Concat(messages.SelectMany(WireEncoder.Encode)).ToArray();

    private static void AssertSame(WireMessage expected, WireMessage actual)
    {
        switch (expected)
        {
            case WireMessage.Piece p:
                var a = Assert.IsType<WireMessage.Piece>(actual);
                Assert.Equal((p.Index, p.Begin), (a.Index, a.Begin));
                Assert.True(p.Block.Span.SequenceEqual(a.Block.Span));
                break;
            case WireMessage.Extended x:
                var ax = Assert.IsType<WireMessage.Extended>(actual);
                Assert.Equal(x.ExtendedId, ax.ExtendedId);
                Assert.Equal(x.Payload, ax.Payload);
                break;
            case WireMessage.Bitfield b:
                Assert.Equal(b.Bits, Assert.IsType<WireMessage.Bitfield>(actual).Bits);
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }

    [Fact]
    public void Every_message_round_trips_after_the_handshake()
    {
        var decoder = new WireDecoder(Limits);
        var output = new List<WireMessage>();
        decoder.Decode(Stream(AllMessages()), output);
        Assert.Equal(SampleHandshake().InfoHash, decoder.Handshake!.InfoHash);
        Assert.Equal(SampleHandshake().PeerId, decoder.Handshake.PeerId);
        Assert.Equal(AllMessages().Length, output.Count);
        foreach (var (e, a) in AllMessages().Zip(output)) AssertSame(e, a);
        Assert.Equal(0, decoder.Buffered);
    }

    [Fact]
    public void Input_split_at_every_point_decodes_the_same()
    {
        var stream = Stream(AllMessages());
        for (var split = 0; split <= stream.Length; split += split < 200 ? 1 : 97)
        {
            var decoder = new WireDecoder(Limits);
            var output = new List<WireMessage>();
            decoder.Decode(stream.AsSpan(0, split), output);
            decoder.Decode(stream.AsSpan(split), output);
            Assert.Equal(AllMessages().Length, output.Count);
        }
    }

    [Fact]
    public void Input_fed_one_byte_at_a_time_decodes_the_same()
    {
        var stream = Stream(AllMessages());
        var decoder = new WireDecoder(Limits);
        var output = new List<WireMessage>();
        foreach (var b in stream) decoder.Decode([b], output);
        Assert.Equal(AllMessages().Length, output.Count);
        foreach (var (e, a) in AllMessages().Zip(output)) AssertSame(e, a);
    }

    [Fact]
    public void Unknown_message_ids_are_skipped_without_buffering()
    {
        // An id nobody defined (99) and a large one between known ones.
        byte[] small = [0, 0, 0, 3, 99, 0x1A, 0xE1];
        var extended = new byte[4 + 1000];
        extended[2] = 0x03; extended[3] = 0xE8; extended[4] = 99;
        var stream = SampleHandshake().Encode().Concat(small).Concat(extended)
            .Concat(WireEncoder.Encode(new WireMessage.Have(1))).ToArray();
        foreach (var step in new[] { 1, 3, 5, 64, stream.Length })
        {
            var decoder = new WireDecoder(Limits);
            var output = new List<WireMessage>();
            for (var i = 0; i < stream.Length; i += step)
            {
                decoder.Decode(stream.AsSpan(i, Math.Min(step, stream.Length - i)), output);
                Assert.True(decoder.Buffered <= 68);
            }
            Assert.Equal([new WireMessage.Have(1)], output);
        }
    }

    public static TheoryData<string, byte[]> BadInputs => new()
    {
        { "oversized length", [0, 0, 0x40, 0x0E, 7] },
        { "huge length", [0xFF, 0xFF, 0xFF, 0xFF] },
        { "have index out of range", [0, 0, 0, 5, 4, 0, 0, 0, 21] },
        { "have too short", [0, 0, 0, 4, 4, 0, 0, 0] },
        { "choke with payload", [0, 0, 0, 2, 0, 0] },
        { "bitfield wrong length", [0, 0, 0, 3, 5, 0, 0] },
        { "bitfield spare bits", [0, 0, 0, 4, 5, 0, 0, 0x7F] },
        { "request negative begin", [0, 0, 0, 13, 6, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0x40, 0] },
        { "piece block too big", [0, 0, 0x40, 0x0A, 7, 0, 0, 0, 1, 0, 0, 0, 0] },
        { "extended too big", [0, 0, 0x44, 0x02, 20, 0] },
        { "extended without an id", [0, 0, 0, 1, 20] },
        { "have-all with payload", [0, 0, 0, 2, 14, 0] },
        { "reject too short", [0, 0, 0, 9, 16, 0, 0, 0, 1, 0, 0, 0, 0] },
        { "allowed fast out of range", [0, 0, 0, 5, 17, 0, 0, 0, 21] },
        { "port too short", [0, 0, 0, 2, 9, 0x1A] },
        { "port too long", [0, 0, 0, 5, 9, 0, 0, 0x1A, 0xE1] },
    };

    [Fact]
    public void Without_the_torrent_bitfields_are_skipped_and_indexes_unchecked()
    {
        var decoder = new WireDecoder(WireLimits.MetadataOnly(), expectHandshake: false);
        var output = new List<WireMessage>();
        var bitfield = new byte[4 + 1 + 5000];
        bitfield[2] = 0x13; bitfield[3] = 0x89; bitfield[4] = 5;
        decoder.Decode(bitfield.Concat(WireEncoder.Encode(new WireMessage.Have(123_456))).ToArray(), output);
        Assert.Equal([new WireMessage.Have(123_456)], output);
        Assert.Equal(0, decoder.Buffered);
    }

    [Fact]
    public void The_port_message_is_id_9_with_two_bytes_big_endian()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 3, 9, 0x1A, 0xE1 }, WireEncoder.Encode(new WireMessage.Port(6881)));
        var output = new List<WireMessage>();
        new WireDecoder(WireLimits.MetadataOnly(), expectHandshake: false).Decode([0, 0, 0, 3, 9, 0x1A, 0xE1], output);
        Assert.Equal([new WireMessage.Port(6881)], output);
        Assert.Throws<ArgumentOutOfRangeException>(() => WireEncoder.Encode(new WireMessage.Port(70_000)));
    }

    [Fact]
    public void Our_handshake_sets_the_DHT_bit_only_when_we_run_a_node()
    {
        var without = new Handshake(Handshake.OurReserved(), new byte[20], new byte[20]);
        var with = new Handshake(Handshake.OurReserved(dht: true), new byte[20], new byte[20]);
        Assert.False(without.SupportsDht);
        Assert.True(with.SupportsDht);
        Assert.Equal(0x05, with.Encode()[20 + 7]);
        Assert.True(with.SupportsFast && with.SupportsExtensions);
        Assert.False(SampleHandshake().SupportsDht);
    }

    [Fact]
    public void Our_handshake_sets_the_extension_and_fast_bits()
    {
        var ours = new Handshake(Handshake.OurReserved(), new byte[20], new byte[20]);
        Assert.Equal(0x10, ours.Encode()[20 + 5]);
        Assert.Equal(0x04, ours.Encode()[20 + 7]);
        Assert.True(ours.SupportsExtensions);
        Assert.True(ours.SupportsFast);
        Assert.False(SampleHandshake().SupportsExtensions);
        Assert.False(SampleHandshake().SupportsFast);
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Malformed_messages_are_protocol_errors(string why, byte[] message)
    {
        var decoder = new WireDecoder(Limits, expectHandshake: false);
        var ex = Record.Exception(() =>
        {
            decoder.Decode(message, new List<WireMessage>());
            decoder.Decode(new byte[20_000], new List<WireMessage>());
        });
        Assert.True(ex is PeerProtocolException, $"{why}: {ex}");
    }

    [Fact]
    public void A_bad_handshake_is_a_protocol_error()
    {
        var bytes = SampleHandshake().Encode();
        bytes[5] ^= 0x20;
        Assert.Throws<PeerProtocolException>(() => new WireDecoder(Limits).Decode(bytes, new List<WireMessage>()));
    }

    [Fact]
    public void Random_mutated_and_truncated_input_only_ever_raises_protocol_errors()
    {
        var random = new Random(4);
        var valid = Stream(AllMessages());
        for (var round = 0; round < 3000; round++)
        {
            byte[] input;
            switch (round % 3)
            {
                case 0:
                    input = new byte[random.Next(0, 400)];
                    random.NextBytes(input);
                    if (round % 2 == 0 && input.Length >= 68) valid.AsSpan(0, 68).CopyTo(input);
                    break;
                case 1:
                    input = (byte[])valid.Clone();
                    for (var m = random.Next(1, 8); m > 0; m--) input[random.Next(input.Length)] = (byte)random.Next(256);
                    break;
                default:
                    input = valid.AsSpan(0, random.Next(valid.Length)).ToArray();
                    break;
            }
            var decoder = new WireDecoder(Limits);
            var output = new List<WireMessage>();
            try
            {
                for (var i = 0; i < input.Length;)
                {
                    var n = Math.Min(random.Next(1, 3000), input.Length - i);
                    decoder.Decode(input.AsSpan(i, n), output);
                    i += n;
                    Assert.True(decoder.Buffered <= 4 + Limits.MaxMessageLength);
                }
            }
            catch (PeerProtocolException)
            {
            }
        }
    }

    [Fact]
    public void PieceSet_round_trips_through_the_wire_layout()
    {
        var set = new PieceSet(10);
        set.Add(0); set.Add(9);
        Assert.Equal(new byte[] { 0x80, 0x40 }, set.ToWire());
        var back = PieceSet.FromWire(10, set.ToWire());
        Assert.Equal([0, 9], back.ToArray());
        Assert.Equal(2, back.Count);
    }
}
