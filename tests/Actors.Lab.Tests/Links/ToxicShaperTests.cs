using Actors.Lab.Links;
using Xunit;

namespace Actors.Lab.Tests.Links;

/// <summary>The pure toxic logic on a virtual clock: no sockets, no timers, exact figures.</summary>
public sealed class ToxicShaperTests
{
    private static ToxicShaper<byte[]> Shaper(int seed = 1) =>
        new(b => b.Length, (b, offset, count) => b.AsSpan(offset, count).ToArray(), new Random(seed));

    private static Toxic T(ToxicKind kind, ToxicStream stream = ToxicStream.Downstream, string? name = null) =>
        new(name ?? Toxic.DefaultName(kind, stream), stream, kind);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>Runs the shaper like the actor does (write, ack at once, wait when told) until idle; the writes with their times.</summary>
    private static List<(TimeSpan At, byte[] Data, bool CloseAfter)> Drain(ToxicShaper<byte[]> shaper, TimeSpan start, int maxSteps = 100_000)
    {
        var writes = new List<(TimeSpan, byte[], bool)>();
        var now = start;
        for (var i = 0; i < maxSteps; i++)
        {
            var step = shaper.Next(now);
            switch (step.Action)
            {
                case ShaperAction.Write: writes.Add((now, step.Data!, step.CloseAfter)); if (step.CloseAfter) return writes; break;
                case ShaperAction.Wait: Assert.True(step.At > now); now = step.At; break;
                default: return writes;
            }
        }
        throw new InvalidOperationException("the shaper did not settle");
    }

    [Fact]
    public void Without_toxics_a_chunk_passes_at_once_and_whole()
    {
        var shaper = Shaper();
        shaper.Enqueue([1, 2, 3], Ms(10));
        var writes = Drain(shaper, Ms(10));
        Assert.Equal(Ms(10), Assert.Single(writes).At);
        Assert.Equal([1, 2, 3], writes[0].Data);
        Assert.Equal(0, shaper.QueuedBytes);
    }

    [Theory]
    [InlineData(300, 0)]
    [InlineData(300, 50)]
    [InlineData(0, 20)]
    public void Latency_delays_each_chunk_from_when_it_was_read_within_the_jitter(int latency, int jitter)
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.Latency(latency, jitter))], TimeSpan.Zero);
        for (var i = 0; i < 20; i++) shaper.Enqueue([(byte)i], Ms(i * 10));
        var writes = Drain(shaper, TimeSpan.Zero);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (byte)i), writes.Select(w => w.Data[0])); // order kept
        for (var i = 0; i < 20; i++)
        {
            var delay = writes[i].At - Ms(i * 10);
            Assert.InRange(delay.TotalMilliseconds, Math.Max(0, latency - jitter) - 1e-6, latency + jitter + 10 + 1e-6);
        }
    }

    [Fact]
    public void Bandwidth_paces_writes_to_the_rate()
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.Bandwidth(100))], TimeSpan.Zero); // 100,000 B/s
        for (var i = 0; i < 100; i++) shaper.Enqueue(new byte[10_000], TimeSpan.Zero); // 1 MB: 10 s
        var writes = Drain(shaper, TimeSpan.Zero);

        Assert.Equal(1_000_000, writes.Sum(w => w.Data.Length));
        Assert.All(writes, w => Assert.True(w.Data.Length <= 10_000)); // at most 100 ms worth per write
        var last = writes[^1].At.TotalSeconds;
        Assert.InRange(last, 9.9 - ToxicShaper<byte[]>.BandwidthBurst.TotalSeconds - 1e-6, 9.9 + 1e-6);
        // No second moves more than the rate plus the burst allowance.
        foreach (var second in Enumerable.Range(0, 10))
            Assert.True(writes.Where(w => w.At.TotalSeconds >= second && w.At.TotalSeconds < second + 1).Sum(w => w.Data.Length) <= 100_000 + 5_000 + 10_000);
    }

    [Fact]
    public void Bandwidth_cuts_a_big_chunk_into_pieces_of_a_tenth_of_a_second()
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.Bandwidth(10))], TimeSpan.Zero); // 10,000 B/s
        shaper.Enqueue(Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray(), TimeSpan.Zero);
        var writes = Drain(shaper, TimeSpan.Zero);
        Assert.Equal(5, writes.Count);
        Assert.All(writes, w => Assert.Equal(1000, w.Data.Length));
        Assert.Equal(Enumerable.Range(0, 5000).Select(i => (byte)i), writes.SelectMany(w => w.Data));
    }

    [Fact]
    public void Slicer_cuts_into_slices_of_the_average_size_within_the_variation_and_delay_apart()
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.Slicer(100, 20, 5000))], TimeSpan.Zero);
        var payload = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        shaper.Enqueue(payload, TimeSpan.Zero);
        var writes = Drain(shaper, TimeSpan.Zero);

        Assert.Equal(payload, writes.SelectMany(w => w.Data));
        Assert.All(writes.SkipLast(1), w => Assert.InRange(w.Data.Length, 80, 120));
        Assert.Contains(writes, w => w.Data.Length != 100); // the variation is used
        for (var i = 1; i < writes.Count; i++)
            Assert.Equal(Ms(5), writes[i].At - writes[i - 1].At);
    }

    [Fact]
    public void Limit_data_lets_exactly_n_bytes_through_then_says_close()
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.LimitData(1500), ToxicStream.Upstream)], TimeSpan.Zero);
        shaper.Enqueue(new byte[1000], TimeSpan.Zero);
        shaper.Enqueue(new byte[1000], TimeSpan.Zero);
        var writes = Drain(shaper, TimeSpan.Zero);

        Assert.Equal([1000, 500], writes.Select(w => w.Data.Length));
        Assert.True(writes[^1].CloseAfter);
        Assert.Equal(ShaperAction.Close, shaper.Next(TimeSpan.Zero).Action);
    }

    [Fact]
    public void Limit_data_keeps_its_count_while_it_stays_and_restarts_when_replaced()
    {
        var shaper = Shaper();
        var limit = T(new ToxicKind.LimitData(1000), ToxicStream.Upstream);
        shaper.SetToxics([limit], TimeSpan.Zero);
        shaper.Enqueue(new byte[600], TimeSpan.Zero);
        Assert.Equal(600, Drain(shaper, TimeSpan.Zero).Sum(w => w.Data.Length));

        shaper.SetToxics([limit, T(new ToxicKind.Latency(0))], TimeSpan.Zero); // same limit: 400 left
        shaper.Enqueue(new byte[600], TimeSpan.Zero);
        Assert.Equal(400, Drain(shaper, TimeSpan.Zero).Sum(w => w.Data.Length));

        shaper.SetToxics([limit with { Kind = new ToxicKind.LimitData(5000) }], TimeSpan.Zero); // replaced: a fresh 5000
        Assert.Equal(200, Drain(shaper, TimeSpan.Zero).Sum(w => w.Data.Length));
    }

    [Fact]
    public void A_stall_holds_everything_and_releasing_it_delivers_all_in_order()
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.Timeout())], TimeSpan.Zero);
        shaper.Enqueue([1, 2], TimeSpan.Zero);
        shaper.Enqueue([3], TimeSpan.Zero);
        Assert.Equal(ShaperAction.Stalled, shaper.Next(Ms(1000)).Action);
        Assert.Equal(3, shaper.QueuedBytes);

        shaper.SetToxics([], Ms(1000));
        Assert.Equal([1, 2, 3], Drain(shaper, Ms(1000)).SelectMany(w => w.Data));
    }

    [Fact]
    public void Removing_latency_releases_waiting_chunks_at_once()
    {
        var shaper = Shaper();
        shaper.SetToxics([T(new ToxicKind.Latency(10_000))], TimeSpan.Zero);
        shaper.Enqueue([9], TimeSpan.Zero);
        Assert.Equal(ShaperAction.Wait, shaper.Next(Ms(1)).Action);
        shaper.SetToxics([], Ms(2));
        Assert.Equal(ShaperAction.Write, shaper.Next(Ms(2)).Action);
    }

    [Theory]
    [InlineData("latency", "latency=300,jitter=20", "latency")]
    [InlineData("bandwidth", "rate=100", "bandwidth")]
    [InlineData("slicer", "average_size=64,size_variation=8,delay=100", "slicer")]
    [InlineData("stall", "timeout=1000", "timeout")]
    [InlineData("reset", "", "reset_peer")]
    [InlineData("limit-data", "bytes=10", "limit_data")]
    [InlineData("down", "", "down")]
    public void Toxiproxy_names_and_our_aliases_parse(string type, string attributes, string expectedType)
    {
        var parsed = attributes.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Split('=')).ToDictionary(a => a[0], a => long.Parse(a[1]));
        var toxic = Toxic.Create(type, "upstream", parsed);
        Assert.Equal(expectedType, toxic.Kind.Type);
        Assert.Equal($"{expectedType}_upstream", toxic.Name);
        foreach (var (key, value) in parsed) Assert.Equal(value, toxic.Kind.Attributes[key]);
    }

    [Theory]
    [InlineData("latencyy", "", "unknown toxic type")]
    [InlineData("bandwidth", "", "'rate' is required")]
    [InlineData("bandwidth", "rate=0", "between 1 and")]
    [InlineData("latency", "delay=5", "unknown attribute 'delay'")]
    [InlineData("slicer", "average_size=10,size_variation=10", "size_variation")]
    public void Bad_toxics_are_refused_with_a_clear_message(string type, string attributes, string expected)
    {
        var parsed = attributes.Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(a => a.Split('=')).ToDictionary(a => a[0], a => long.Parse(a[1]));
        var error = Assert.Throws<ArgumentException>(() => Toxic.Create(type, "downstream", parsed));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Bad_stream_and_toxicity_are_refused()
    {
        Assert.Contains("upstream or downstream", Assert.Throws<ArgumentException>(() => Toxic.Create("latency", "sideways")).Message);
        Assert.Contains("toxicity", Assert.Throws<ArgumentException>(() => Toxic.Create("latency", "up", toxicity: 1.5)).Message);
    }
}
