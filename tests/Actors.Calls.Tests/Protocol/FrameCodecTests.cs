using System.Buffers.Binary;
using Actors.Calls.Protocol;
using Xunit;

namespace Actors.Calls.Tests.Protocol;

public sealed class FrameCodecTests
{
    public static IEnumerable<CallMessage> Samples()
    {
        yield return new Hello(FrameCodec.Version, "caller/1");
        yield return new Challenge(CallAuth.NewNonce());
        yield return new Register("alice", new byte[32], 4000);
        yield return new Registered("alice", "198.18.0.10", 40123);
        yield return new ReachabilityResult(true, "198.18.0.10", 4000);
        yield return new Refused(RefusalCode.AuthFailed, "bad proof");
        yield return new Displaced("registered again elsewhere");
        yield return new PlaceCall("c1", "bob");
        yield return new Ring("c1", "alice");
        yield return new Accept("c1");
        yield return new Reject("c1", "busy");
        yield return new Cancel("c1");
        yield return new HangUp("c1", "done");
        yield return new CallEnded("c1", CallOutcome.NoAnswer, "no answer within 30s");
        yield return new Connect("c1", PathKind.Relay, PathRole.Dial, "198.18.0.3", 5000, "tok");
        yield return new PathLost("c1", "tok");
        yield return new Punch("c1", PathRole.Await, "198.18.1.2", 40123, "tok", 12, 3, 1200);
        yield return new Connect("c1", PathKind.HolePunch, PathRole.Dial, "198.18.1.2", 40123, "tok");
        yield return new UdpOffer("c1", new byte[32], "198.18.1.2", 40123, UdpSender.Callee);
        yield return new Ping(long.MinValue);
        yield return new Pong(42);
        yield return new Join("c1", "tok", "alice");
        yield return new Joined("c1");
        yield return new Probe([1, 2, 3]);
        yield return new ProbeReply([1, 2, 3]);
        yield return new Media(uint.MaxValue, 123456789, new byte[160]);
        yield return new Text("héllo ☎");
        yield return new Bye("hang-up");
    }

    public static TheoryData<int> SampleIndexes() => new(Enumerable.Range(0, Samples().Count()));

    [Theory, MemberData(nameof(SampleIndexes))]
    public void Every_message_round_trips(int index)
    {
        var message = Samples().ElementAt(index);
        var decoder = new FrameDecoder();
        decoder.Feed(FrameCodec.Encode(message));
        Assert.Equal(DecodeStatus.Message, decoder.Next(out var decoded, out _));
        AssertSame(message, decoded!);
        Assert.Equal(DecodeStatus.NeedMore, decoder.Next(out _, out _));
    }

    [Fact]
    public void A_stream_of_frames_decodes_identically_at_every_split_point()
    {
        var messages = Samples().ToList();
        var stream = messages.SelectMany(m => FrameCodec.Encode(m)).ToArray();
        for (var split = 0; split <= stream.Length; split++)
        {
            var decoder = new FrameDecoder();
            var got = new List<CallMessage>();
            decoder.Feed(stream.AsSpan(0, split));
            Drain(decoder, got);
            decoder.Feed(stream.AsSpan(split));
            Drain(decoder, got);
            Assert.Equal(messages.Count, got.Count);
            for (var i = 0; i < messages.Count; i++) AssertSame(messages[i], got[i]);
        }
    }

    [Fact]
    public void Byte_by_byte_feeding_decodes_everything()
    {
        var messages = Samples().ToList();
        var stream = messages.SelectMany(m => FrameCodec.Encode(m)).ToArray();
        var decoder = new FrameDecoder();
        var got = new List<CallMessage>();
        foreach (var b in stream) { decoder.Feed([b]); Drain(decoder, got); }
        Assert.Equal(messages.Count, got.Count);
        Assert.Equal(0, decoder.Buffered);
    }

    [Fact]
    public void A_length_above_the_limit_is_refused_before_the_body_arrives()
    {
        var decoder = new FrameDecoder(1024);
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, 1025);
        decoder.Feed(header);
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out var error));
        Assert.Contains("exceeds", error);
        // Failed decoders stay failed and buffer nothing more.
        decoder.Feed(new byte[5000]);
        Assert.Equal(0, decoder.Buffered);
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out _));
    }

    [Fact]
    public void Encoding_a_frame_larger_than_the_limit_throws()
    {
        Assert.Throws<ArgumentException>(() => FrameCodec.Encode(new Media(1, 1, new byte[2000]), maxFrame: 1024));
    }

    public static TheoryData<string, byte[]> MalformedBodies() => new()
    {
        { "empty frame", [0, 0, 0, 0] },
        { "unknown frame type", [0, 0, 0, 1, 0xEE] },
        { "frame ends inside a field", [0, 0, 0, 3, 0x10, 0, 9] },
        { "trailing bytes", [0, 0, 0, 4, 0x12, 0, 0, 9] },
        { "not UTF-8", [0, 0, 0, 5, 0x41, 0, 2, 0xC3, 0x28] },
        { "bad RefusalCode", [0, 0, 0, 5, 0x06, 99, 0, 0, 0] },
        { "bad boolean", [0, 0, 0, 6, 0x05, 7, 0, 0, 0, 0] },
    };

    [Theory, MemberData(nameof(MalformedBodies))]
    public void Malformed_frames_are_errors_not_exceptions(string expected, byte[] frame)
    {
        var decoder = new FrameDecoder();
        decoder.Feed(frame);
        var status = decoder.Next(out _, out var error);
        if (status == DecodeStatus.NeedMore) Assert.Fail($"expected an error ({expected})");
        Assert.Equal(DecodeStatus.Error, status);
        Assert.Contains(expected.Split(' ')[^1], error!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Random_and_mutated_input_never_throws_and_never_buffers_beyond_the_limit()
    {
        var random = new Random(20261125);
        var valid = Samples().SelectMany(m => FrameCodec.Encode(m)).ToArray();
        for (var round = 0; round < 3000; round++)
        {
            byte[] input;
            if (round % 2 == 0)
            {
                input = (byte[])valid.Clone();
                for (var m = random.Next(1, 8); m > 0; m--) input[random.Next(input.Length)] = (byte)random.Next(256);
            }
            else
            {
                input = new byte[random.Next(1, 600)];
                random.NextBytes(input);
            }
            var decoder = new FrameDecoder(4096);
            var position = 0;
            var steps = 0;
            while (position < input.Length && steps++ < 10_000)
            {
                var take = Math.Min(random.Next(1, 64), input.Length - position);
                decoder.Feed(input.AsSpan(position, take));
                position += take;
                DecodeStatus status;
                var frames = 0;
                while ((status = decoder.Next(out var message, out _)) == DecodeStatus.Message && frames++ < 10_000)
                    Assert.NotNull(message);
                if (status == DecodeStatus.Error) break;
                Assert.True(decoder.Buffered <= 4096 + FrameCodec.HeaderSize + 64);
            }
        }
    }

    private static void Drain(FrameDecoder decoder, List<CallMessage> into)
    {
        for (var i = 0; i < 1000; i++)
        {
            var status = decoder.Next(out var message, out var error);
            if (status == DecodeStatus.NeedMore) return;
            Assert.True(status == DecodeStatus.Message, error);
            into.Add(message!);
        }
    }

    // Records with arrays compare arrays by reference: compare their encodings instead.
    private static void AssertSame(CallMessage expected, CallMessage actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        Assert.Equal(FrameCodec.Encode(expected), FrameCodec.Encode(actual));
    }
}
