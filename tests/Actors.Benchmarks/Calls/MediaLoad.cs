using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;

namespace Actors.Benchmarks.Calls;

/// <summary>
/// Voice-like load on pairs of connected sockets: every end sends a fixed-size frame every 20 ms
/// (its send time inside), every end reads its peer's frames and records the one-way latency.
/// Sender and receiver are in this process, so one clock measures both ends.
/// </summary>
public static class MediaLoad
{
    public const int FrameBytes = 172; // a 160-byte payload plus the media frame's header, as the caller sends
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public sealed record Result(int Calls, double P50Ms, double P99Ms, double MaxMs, long Sent, long Received)
    {
        public double DeliveredRatio => Sent == 0 ? 0 : (double)Received / Sent;
    }

    /// <summary>Runs the load on every pair for warm-up + measure; only frames sent during measure count.</summary>
    public static async Task<Result> RunAsync(IReadOnlyList<(TcpClient A, TcpClient B)> pairs, TimeSpan warmUp, TimeSpan measure, CancellationToken cancel)
    {
        long from = (long)(warmUp.TotalSeconds * Stopwatch.Frequency), to = from + (long)(measure.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var ends = pairs.SelectMany(p => new[] { (Out: p.A, In: p.B), (Out: p.B, In: p.A) }).ToList();
        var latencies = ends.Select(_ => new List<double>(capacity: (int)(measure.TotalSeconds * 60))).ToArray();
        long sent = 0;
        var random = new Random(1);
        var senders = ends.Select(end => SendLoop(end.Out.GetStream(), TimeSpan.FromTicks(random.NextInt64(Interval.Ticks)), start, from, to, () => Interlocked.Increment(ref sent), stop.Token)).ToList();
        var receivers = ends.Select((end, i) => ReceiveLoop(end.In.GetStream(), start, from, to, latencies[i], stop.Token)).ToList();
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

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task SendLoop(NetworkStream stream, TimeSpan phase, long start, long from, long to, Action counted, CancellationToken cancel)
    {
        var frame = new byte[FrameBytes];
        await Task.Delay(phase, cancel);
        using var timer = new PeriodicTimer(Interval);
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now - start >= to) return;
            BinaryPrimitives.WriteInt64BigEndian(frame, now);
            await stream.WriteAsync(frame, cancel);
            if (now - start >= from) counted();
            if (!await timer.WaitForNextTickAsync(cancel)) return;
        }
    }

    private static async Task ReceiveLoop(NetworkStream stream, long start, long from, long to, List<double> latencies, CancellationToken cancel)
    {
        var frame = new byte[FrameBytes];
        while (true)
        {
            await stream.ReadExactlyAsync(frame, cancel);
            var sentAt = BinaryPrimitives.ReadInt64BigEndian(frame);
            var elapsed = sentAt - start;
            if (elapsed >= from && elapsed < to)
                latencies.Add((Stopwatch.GetTimestamp() - sentAt) * 1000.0 / Stopwatch.Frequency);
            if (elapsed >= to - Stopwatch.Frequency / 50) return; // the sender's last frame
        }
    }
}
