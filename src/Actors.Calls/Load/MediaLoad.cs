using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace Actors.Calls.Load;

/// <summary>
/// What each end of a call sends: <paramref name="FrameBytes"/> bytes <paramref name="FramesPerSecond"/>
/// times a second. <see cref="Voice"/> is what the caller sends: a 160-byte payload plus the media
/// frame's header, every 20 ms.
/// </summary>
public sealed record MediaShape(int FramesPerSecond, int FrameBytes)
{
    public const int MinFrameBytes = 16;  // the send time (8 bytes) and room for nothing else
    public const int MaxFrameBytes = 65536;
    public const int MaxFramesPerSecond = 1000;
    public static readonly MediaShape Voice = new(50, 172);

    public TimeSpan Interval => TimeSpan.FromTicks(TimeSpan.TicksPerSecond / FramesPerSecond);

    /// <summary>Null when usable, else what is wrong (for a usage error).</summary>
    public string? Problem() =>
        FramesPerSecond is < 1 or > MaxFramesPerSecond ? $"frame rate must be 1..{MaxFramesPerSecond} per second (got {FramesPerSecond})"
        : FrameBytes is < MinFrameBytes or > MaxFrameBytes ? $"frame size must be {MinFrameBytes}..{MaxFrameBytes} bytes (got {FrameBytes})"
        : null;
}

/// <summary>
/// Voice-like load on pairs of connected sockets: every end sends a fixed-size frame at a fixed
/// rate (its send time inside), every end reads its peer's frames and records the one-way latency.
/// Sender and receiver are in this process, so one clock measures both ends.
/// </summary>
public static class MediaLoad
{
    /// <summary>The send time of the frame that ends a sender's load (no real timestamp is negative).</summary>
    private const long EndOfLoad = -1;

    /// <summary>Latency of the frames sent during the measured window; <see cref="Lost"/> never arrived (within 2 s of its end).</summary>
    public sealed record Result(int Calls, double P50Ms, double P99Ms, double MaxMs, long Sent, long Received)
    {
        public double DeliveredRatio => Sent == 0 ? 0 : (double)Received / Sent;
        public long Lost => Math.Max(0, Sent - Received);
    }

    /// <summary>Runs the load on every pair for warm-up + measure; only frames sent during measure count.</summary>
    public static async Task<Result> RunAsync(IReadOnlyList<(TcpClient A, TcpClient B)> pairs, MediaShape shape, TimeSpan warmUp, TimeSpan measure, CancellationToken cancel)
    {
        long from = (long)(warmUp.TotalSeconds * Stopwatch.Frequency), to = from + (long)(measure.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var ends = pairs.SelectMany(p => new[] { (Out: p.A, In: p.B), (Out: p.B, In: p.A) }).ToList();
        var latencies = ends.Select(_ => new List<double>(capacity: (int)Math.Min(1 << 16, measure.TotalSeconds * shape.FramesPerSecond * 1.2))).ToArray();
        long sent = 0;
        var random = new Random(1);
        var senders = ends.Select(end => SendLoop(end.Out.GetStream(), shape, TimeSpan.FromTicks(random.NextInt64(shape.Interval.Ticks)), start, from, to,
            () => Interlocked.Increment(ref sent), stop.Token)).ToList();
        var receivers = ends.Select((end, i) => ReceiveLoop(end.In.GetStream(), shape, start, from, to, latencies[i], stop.Token)).ToList();
        await Task.WhenAll(senders);
        // Let the last frames arrive (bounded), then stop the readers.
        await Task.WhenAny(Task.WhenAll(receivers), Task.Delay(TimeSpan.FromSeconds(2), cancel));
        stop.Cancel();
        try { await Task.WhenAll(receivers); } catch (OperationCanceledException) { } catch (IOException) { }
        cancel.ThrowIfCancellationRequested();
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new Result(pairs.Count, Percentile(all, 0.50), Percentile(all, 0.99), all.Length == 0 ? double.NaN : all[^1], sent, all.Length);
    }

    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task SendLoop(NetworkStream stream, MediaShape shape, TimeSpan phase, long start, long from, long to, Action counted, CancellationToken cancel)
    {
        var frame = new byte[shape.FrameBytes];
        await Task.Delay(phase, cancel);
        using var timer = new PeriodicTimer(shape.Interval);
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now - start >= to) break;
            BinaryPrimitives.WriteInt64BigEndian(frame, now);
            await stream.WriteAsync(frame, cancel);
            if (now - start >= from) counted();
            if (!await timer.WaitForNextTickAsync(cancel)) break;
        }
        // Tell the reader this was the last frame: a late timer can send two frames in the last
        // interval, so "a frame from the last interval" is not the end.
        BinaryPrimitives.WriteInt64BigEndian(frame, EndOfLoad);
        await stream.WriteAsync(frame, cancel);
    }

    private static async Task ReceiveLoop(NetworkStream stream, MediaShape shape, long start, long from, long to, List<double> latencies, CancellationToken cancel)
    {
        var frame = new byte[shape.FrameBytes];
        while (true)
        {
            await stream.ReadExactlyAsync(frame, cancel);
            var sentAt = BinaryPrimitives.ReadInt64BigEndian(frame);
            if (sentAt == EndOfLoad) return;
            var elapsed = sentAt - start;
            if (elapsed >= from && elapsed < to)
                latencies.Add((Stopwatch.GetTimestamp() - sentAt) * 1000.0 / Stopwatch.Frequency);
        }
    }
}
