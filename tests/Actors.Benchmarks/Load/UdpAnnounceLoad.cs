using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Actors.Benchmarks.Load;

/// <summary>What one UDP announce load run measured.</summary>
public sealed record UdpLoadResult(long Answered, long Errors, long Lost, TimeSpan Elapsed)
{
    public double AnnouncesPerSecond => Answered / Elapsed.TotalSeconds;

    public string DescribeErrors() => Errors == 0 && Lost == 0 ? "no errors" : $"{Errors:N0} error packets, {Lost:N0} lost";
}

/// <summary>
/// A BEP 15 announce load generator (wrk has no UDP): <see cref="Sockets"/> client sockets on
/// loopback, each connecting once (a fresh connection id every 50 s) and then keeping
/// <see cref="Window"/> announces in flight — a closed loop, so it measures the tracker's rate,
/// not a rate we chose. Each announce names one of the fixed swarms and a fresh random peer id and
/// port (as wrk's Lua script does for HTTP), numwant 50. An announce unanswered for 200 ms counts as
/// lost and is replaced.
/// </summary>
public sealed class UdpAnnounceLoad(IReadOnlyList<byte[]> infoHashes, int sockets = 4, int window = 16)
{
    public int Sockets { get; } = sockets;
    public int Window { get; } = window;
    private static readonly TimeSpan LossTimeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ConnectionIdAge = TimeSpan.FromSeconds(50);

    public async Task<UdpLoadResult> RunAsync(IPEndPoint tracker, TimeSpan duration, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, Sockets).Select(i => Task.Run(() => RunSocketAsync(tracker, duration, i, cancellationToken), cancellationToken)));
        watch.Stop();
        return new UdpLoadResult(results.Sum(r => r.Answered), results.Sum(r => r.Errors), results.Sum(r => r.Lost), duration);
    }

    private async Task<(long Answered, long Errors, long Lost)> RunSocketAsync(IPEndPoint tracker, TimeSpan duration, int index, CancellationToken cancellationToken)
    {
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        client.Client.ReceiveBufferSize = 1 << 20;
        client.Connect(tracker); // only the tracker's datagrams are received
        var random = new Random(index * 7919 + 17);
        long answered = 0, errors = 0, lost = 0;
        var connectionId = await ConnectAsync(client, random, cancellationToken);
        var connectedAt = Stopwatch.StartNew();
        var inFlight = new Dictionary<int, long>(); // transaction id -> sent at (ticks)
        var buffer = new byte[98];
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var lossTicks = (long)(LossTimeout.TotalSeconds * Stopwatch.Frequency);

        void SendOne()
        {
            var transactionId = random.Next();
            while (inFlight.ContainsKey(transactionId)) transactionId = random.Next();
            FillAnnounce(buffer, connectionId, transactionId, infoHashes[random.Next(infoHashes.Count)], random);
            client.Send(buffer, buffer.Length);
            inFlight[transactionId] = Stopwatch.GetTimestamp();
        }

        for (var i = 0; i < Window; i++) SendOne();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var wait = new CancellationTokenSource(LossTimeout);
            UdpReceiveResult answer;
            try
            {
                answer = await client.ReceiveAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Nothing for 200 ms: whatever is in flight is lost; refill the window.
                lost += inFlight.Count;
                inFlight.Clear();
                for (var i = 0; i < Window; i++) SendOne();
                continue;
            }
            var data = answer.Buffer;
            if (data.Length < 8 || !inFlight.Remove(BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4)))) continue;
            var action = BinaryPrimitives.ReadInt32BigEndian(data);
            if (action == 1) answered++;
            else errors++;
            if (connectedAt.Elapsed > ConnectionIdAge || action == 3)
            {
                connectionId = await ConnectAsync(client, random, cancellationToken);
                connectedAt.Restart();
            }
            // Replace stale ones, then keep the window full.
            var now = Stopwatch.GetTimestamp();
            foreach (var stale in inFlight.Where(e => now - e.Value > lossTicks).Select(e => e.Key).ToList())
            {
                inFlight.Remove(stale);
                lost++;
            }
            while (inFlight.Count < Window) SendOne();
        }
        return (answered, errors, lost);
    }

    private static async Task<long> ConnectAsync(UdpClient client, Random random, CancellationToken cancellationToken)
    {
        var request = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(request, 0x41727101980);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var transactionId = random.Next();
            BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 0);
            BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(12), transactionId);
            client.Send(request, request.Length);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                while (true)
                {
                    var answer = (await client.ReceiveAsync(wait.Token)).Buffer;
                    if (answer.Length >= 16 && BinaryPrimitives.ReadInt32BigEndian(answer) == 0
                        && BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(4)) == transactionId)
                        return BinaryPrimitives.ReadInt64BigEndian(answer.AsSpan(8));
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
        throw new InvalidOperationException("the UDP tracker answered no connect in 20 tries");
    }

    private static void FillAnnounce(byte[] buffer, long connectionId, int transactionId, byte[] infoHash, Random random)
    {
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], 1);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], transactionId);
        infoHash.CopyTo(span[16..]);
        "-BM0001-"u8.CopyTo(span[36..]);
        random.NextBytes(span.Slice(44, 12));
        BinaryPrimitives.WriteInt64BigEndian(span[56..], 0); // downloaded
        BinaryPrimitives.WriteInt64BigEndian(span[64..], 100); // left: a leecher, as wrk's script
        BinaryPrimitives.WriteInt64BigEndian(span[72..], 0); // uploaded
        BinaryPrimitives.WriteInt32BigEndian(span[80..], 0); // event: none
        BinaryPrimitives.WriteInt32BigEndian(span[84..], 0); // ip
        BinaryPrimitives.WriteInt32BigEndian(span[88..], random.Next()); // key
        BinaryPrimitives.WriteInt32BigEndian(span[92..], 50); // numwant
        BinaryPrimitives.WriteUInt16BigEndian(span[96..], (ushort)random.Next(1024, 65535));
    }
}
