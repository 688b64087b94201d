using Actors.Calls.Protocol;
using Xunit;

namespace Actors.Calls.Tests.Protocol;

/// <summary>The UDP media codec (authenticated datagrams), its replay window and the jitter buffer.</summary>
public sealed class UdpMediaTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    public static TheoryData<int> Kinds() => new(0, 1, 2, 3);

    private static UdpDatagram Sample(int index) => index switch
    {
        0 => new UdpDatagram(UdpKind.Hello, UdpSender.Caller, 1, 0, 0, []),
        1 => new UdpDatagram(UdpKind.Media, UdpSender.Callee, 7, 42, 1_700_000_000_000_000, Enumerable.Range(0, 160).Select(i => (byte)i).ToArray()),
        2 => new UdpDatagram(UdpKind.Ping, UdpSender.Caller, uint.MaxValue, 0, long.MinValue, []),
        _ => new UdpDatagram(UdpKind.Pong, UdpSender.Callee, 0, 0, 99, []),
    };

    [Theory, MemberData(nameof(Kinds))]
    public void Every_kind_round_trips(int index)
    {
        var codec = new UdpMediaCodec(Key);
        var sent = Sample(index);
        Assert.Equal(UdpDecodeStatus.Ok, codec.Decode(codec.Encode(sent), out var got));
        Assert.Equal((sent.Kind, sent.Sender, sent.Number, sent.Seq, sent.Value), (got!.Kind, got.Sender, got.Number, got.Seq, got.Value));
        Assert.Equal(sent.Payload, got.Payload);
    }

    [Theory, MemberData(nameof(Kinds))]
    public void Any_flipped_bit_is_refused(int index)
    {
        var codec = new UdpMediaCodec(Key);
        var datagram = codec.Encode(Sample(index));
        for (var bit = 0; bit < datagram.Length * 8; bit++)
        {
            var bad = (byte[])datagram.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(UdpDecodeStatus.Ok, new UdpMediaCodec(Key).Decode(bad, out _));
        }
    }

    [Fact]
    public void Another_calls_key_is_refused()
    {
        var datagram = new UdpMediaCodec(Key).Encode(Sample(1));
        Assert.Equal(UdpDecodeStatus.BadTag, new UdpMediaCodec(UdpMediaCodec.NewKey()).Decode(datagram, out _));
    }

    [Fact]
    public void Every_truncation_and_junk_is_refused_without_throwing()
    {
        var codec = new UdpMediaCodec(Key);
        var datagram = codec.Encode(Sample(1));
        for (var length = 0; length < datagram.Length; length++) Assert.NotEqual(UdpDecodeStatus.Ok, codec.Decode(datagram.AsSpan(0, length), out _));
        Assert.Equal(UdpDecodeStatus.TooLong, codec.Decode(new byte[UdpMediaCodec.MaxDatagram + 1], out _));
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var junk = new byte[random.Next(0, 300)];
            random.NextBytes(junk);
            Assert.NotEqual(UdpDecodeStatus.Ok, codec.Decode(junk, out _));
        }
    }

    [Fact]
    public void A_payload_too_big_for_one_datagram_is_refused_by_the_encoder()
    {
        var codec = new UdpMediaCodec(Key);
        Assert.Throws<ArgumentException>(() => codec.Encode(new UdpDatagram(UdpKind.Media, UdpSender.Caller, 1, 1, 0, new byte[UdpMediaCodec.MaxMediaPayload + 1])));
        Assert.Equal(UdpMediaCodec.MaxDatagram, codec.Encode(new UdpDatagram(UdpKind.Media, UdpSender.Caller, 1, 1, 0, new byte[UdpMediaCodec.MaxMediaPayload])).Length);
        Assert.Throws<ArgumentException>(() => new UdpMediaCodec(new byte[16]));
    }

    [Fact]
    public void Replay_window_accepts_each_number_once_and_nothing_too_old()
    {
        var window = new ReplayWindow();
        Assert.True(window.TryAccept(100));
        Assert.False(window.TryAccept(100));                 // replayed
        Assert.True(window.TryAccept(90));                   // late but new
        Assert.False(window.TryAccept(90));
        Assert.True(window.TryAccept(100 - ReplayWindow.Size + 1)); // the oldest still inside
        Assert.False(window.TryAccept(100 - ReplayWindow.Size));    // just outside
        Assert.True(window.TryAccept(1000));                 // a jump forward forgets the old map ...
        Assert.False(window.TryAccept(100));                 // ... and everything below it is too old
        Assert.True(window.TryAccept(999));
        Assert.False(window.TryAccept(999));
    }

    [Fact]
    public void Replay_window_matches_a_set_model_on_random_orders()
    {
        var random = new Random(11);
        for (var run = 0; run < 50; run++)
        {
            var window = new ReplayWindow();
            var seen = new HashSet<uint>();
            uint highest = 0;
            var any = false;
            for (var i = 0; i < 500; i++)
            {
                var n = (uint)random.Next(0, 400);
                var expected = !seen.Contains(n) && (!any || n > highest || highest - n < ReplayWindow.Size);
                Assert.Equal(expected, window.TryAccept(n));
                if (expected) { seen.Add(n); if (!any || n > highest) highest = n; any = true; }
            }
        }
    }

    [Fact]
    public void Jitter_buffer_reorders_conceals_gaps_and_drops_late_frames()
    {
        var buffer = new JitterBuffer(depth: 3, capacity: 8);
        byte[] F(uint seq) => [(byte)seq];
        buffer.Push(11, F(11));
        buffer.Push(10, F(10));
        Assert.Null(buffer.Pop());          // filling: 2 of 3
        Assert.Equal(0, buffer.Concealed);
        buffer.Push(13, F(13));             // 12 is missing
        Assert.Equal(F(10), buffer.Pop());  // playout starts at the lowest
        Assert.Equal(F(11), buffer.Pop());
        Assert.Null(buffer.Pop());          // 12: concealed
        buffer.Push(12, F(12));             // arrives after its time: late
        buffer.Push(13, F(13));             // again: duplicate
        Assert.Equal(F(13), buffer.Pop());
        Assert.Equal((3L, 1L, 1L, 1L), (buffer.Played, buffer.Concealed, buffer.Late, buffer.Duplicates));
        buffer.Push(100, F(100));           // far ahead: start over
        Assert.Equal(1, buffer.Resyncs);
        Assert.Equal(1, buffer.Buffered);
    }

    [Fact]
    public void Jitter_buffer_never_holds_more_than_its_capacity()
    {
        var random = new Random(3);
        var buffer = new JitterBuffer(depth: 4, capacity: 16);
        for (var i = 0; i < 5000; i++)
        {
            buffer.Push((uint)random.Next(0, 3000), [1]);
            if (random.Next(3) == 0) buffer.Pop();
            Assert.InRange(buffer.Buffered, 0, 16);
        }
    }
}
