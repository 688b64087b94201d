using Actors.Net.Framing;
using Xunit;

namespace Actors.Net.Tests.Framing;

public sealed class LengthPrefixedFramerTests
{
    private static byte[] Stream(params byte[][] payloads) =>
        payloads.SelectMany(p => LengthPrefixedFramer.Encode(p)).ToArray();

    private static List<byte[]> ReadAll(LengthPrefixedFramer framer)
    {
        var frames = new List<byte[]>();
        while (framer.TryRead(out var frame)) frames.Add(frame.ToArray());
        return frames;
    }

    [Fact]
    public void Frames_split_at_every_point_come_out_whole_and_in_order()
    {
        byte[][] payloads = [[1, 2, 3], [], [9], Enumerable.Range(0, 300).Select(i => (byte)i).ToArray()];
        var bytes = Stream(payloads);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var framer = new LengthPrefixedFramer(1024);
            var frames = new List<byte[]>();
            framer.Feed(bytes.AsSpan(0, split));
            frames.AddRange(ReadAll(framer));
            framer.Feed(bytes.AsSpan(split));
            frames.AddRange(ReadAll(framer));
            Assert.Equal(payloads, frames);
            Assert.Equal(0, framer.BufferedBytes);
        }
    }

    [Fact]
    public void Byte_by_byte_input_decodes_the_same()
    {
        byte[][] payloads = [[5, 6], [7, 8, 9, 10]];
        var framer = new LengthPrefixedFramer(16);
        var frames = new List<byte[]>();
        foreach (var b in Stream(payloads))
        {
            framer.Feed([b]);
            frames.AddRange(ReadAll(framer));
        }
        Assert.Equal(payloads, frames);
    }

    [Fact]
    public void An_oversized_length_fails_as_soon_as_the_prefix_arrives()
    {
        var framer = new LengthPrefixedFramer(100);
        var error = Assert.Throws<FramingException>(() => framer.Feed([0xFF, 0xFF, 0xFF, 0xF0]));
        Assert.Contains("exceeds the limit of 100", error.Message);
        Assert.True(framer.BufferedBytes <= 4);
    }

    [Fact]
    public void A_frame_exactly_at_the_limit_is_accepted()
    {
        var framer = new LengthPrefixedFramer(64);
        framer.Feed(LengthPrefixedFramer.Encode(new byte[64]));
        Assert.True(framer.TryRead(out var frame));
        Assert.Equal(64, frame.Length);
        Assert.Throws<FramingException>(() => new LengthPrefixedFramer(64).Feed(LengthPrefixedFramer.Encode(new byte[65])));
    }

    [Fact]
    public void Unframed_bytes_can_be_taken_over_raw()
    {
        var framer = new LengthPrefixedFramer(64);
        framer.Feed([.. LengthPrefixedFramer.Encode([1, 2]), 0, 0, 0, 9, 7, 7]);
        Assert.True(framer.TryRead(out var first));
        Assert.Equal(new byte[] { 1, 2 }, first.ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 9, 7, 7 }, framer.TakeBuffered());
        Assert.Equal(0, framer.BufferedBytes);
    }

    [Fact]
    public void Random_input_only_ever_yields_frames_or_framing_errors_with_bounded_buffering()
    {
        var random = new Random(1234);
        for (var round = 0; round < 2000; round++)
        {
            var framer = new LengthPrefixedFramer(256);
            var input = new byte[random.Next(0, 2000)];
            random.NextBytes(input);
            if (round % 2 == 0) // mostly valid prefixes, to exercise the happy path too
                for (var i = 0; i + 4 <= input.Length; i += 4 + input[i + 3] % 64)
                { input[i] = 0; input[i + 1] = 0; input[i + 2] = 0; input[i + 3] %= 64; }
            try
            {
                for (var offset = 0; offset < input.Length;)
                {
                    var piece = Math.Min(random.Next(1, 100), input.Length - offset);
                    framer.Feed(input.AsSpan(offset, piece));
                    offset += piece;
                    ReadAll(framer);
                    Assert.True(framer.BufferedBytes <= 256 + 4 + 100);
                }
            }
            catch (FramingException) { }
        }
    }
}
