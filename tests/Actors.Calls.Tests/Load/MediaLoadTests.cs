using System.Net;
using System.Net.Sockets;
using Actors.Calls.Load;
using Xunit;

namespace Actors.Calls.Tests.Load;

/// <summary>The load generator the benchmark and the Lab's calls sweep share, on direct loopback pairs.</summary>
public sealed class MediaLoadTests
{
    [Fact]
    public async Task Every_frame_sent_while_measured_arrives_and_is_timed_on_direct_pairs()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var pairs = new List<(TcpClient, TcpClient)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = new TcpClient { NoDelay = true };
                await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
                pairs.Add((client, await listener.AcceptTcpClientAsync()));
            }
            // A warm-up of 1 s: with 0.2 s the senders' first frames came after the 1 s window once, at the
            // start of the suite (the test projects start and JIT together), and nothing was measured.
            var result = await MediaLoad.RunAsync(pairs, new MediaShape(100, 64), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(20));

            Assert.Equal(3, result.Calls);
            // 3 calls × 2 ends × 100 frames/s × 2 s = 1,200; a late timer skips ticks, never adds one (a loaded
            // machine's niced run sent 185 of 600 in 1 s). The point is below: what was sent arrived.
            Assert.InRange(result.Sent, 1, 1212);
            Assert.Equal(result.Sent, result.Received); // TCP on loopback loses nothing: every "lost" frame would be a counting error
            Assert.Equal(0, result.Lost);
            Assert.InRange(result.P50Ms, 0, result.P99Ms);
            Assert.InRange(result.P99Ms, result.P50Ms, result.MaxMs);
        }
        finally
        {
            foreach (var (a, b) in pairs) { a.Dispose(); b.Dispose(); }
        }
    }

    /// <summary>
    /// What the benchmark's socat steps rely on: through something that dials the sink anew for
    /// every connection (as <c>socat TCP-LISTEN:…,fork</c> does), each pair joins the connection
    /// dialed to the one the sink accepted for it, never another pair's.
    /// </summary>
    [Fact]
    public async Task Pairs_made_through_a_forwarder_join_each_dialed_connection_to_its_own_arrival()
    {
        using var sink = new TcpListener(IPAddress.Loopback, 0);
        sink.Start();
        using var front = new TcpListener(IPAddress.Loopback, 0);
        front.Start();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var forwarded = new List<TcpClient>();
        var forwarder = Task.Run(async () =>
        {
            // Each connection accepted is carried on by a task of its own that dials the sink after
            // a pause, shorter for later ones, as forked relays race: had the pairs been dialed
            // all at once, their arrivals would come back in the reverse order.
            var carriers = new List<Task>();
            for (var i = 0; i < 5; i++)
            {
                var inbound = await front.AcceptTcpClientAsync(stop.Token);
                var pause = TimeSpan.FromMilliseconds((5 - i) * 30);
                carriers.Add(Task.Run(async () =>
                {
                    await Task.Delay(pause, stop.Token);
                    var outbound = new TcpClient();
                    lock (forwarded) forwarded.AddRange([inbound, outbound]);
                    await outbound.ConnectAsync((IPEndPoint)sink.LocalEndpoint, stop.Token);
                    _ = inbound.GetStream().CopyToAsync(outbound.GetStream(), stop.Token);
                    _ = outbound.GetStream().CopyToAsync(inbound.GetStream(), stop.Token);
                }));
            }
            await Task.WhenAll(carriers);
        });
        List<(TcpClient A, TcpClient B)> pairs = [];
        try
        {
            pairs = await RelayedCallLoad.PairsAsync(5, (IPEndPoint)front.LocalEndpoint, sink, stop.Token);
            await forwarder.WaitAsync(stop.Token);
            Assert.Equal(5, pairs.Count);
            for (var i = 0; i < pairs.Count; i++)
            {
                byte[] sent = [(byte)i, (byte)(i * 7), 42], received = new byte[3];
                await pairs[i].A.GetStream().WriteAsync(sent, stop.Token);
                await pairs[i].B.GetStream().ReadExactlyAsync(received, stop.Token);
                Assert.Equal(sent, received);
            }
        }
        finally
        {
            foreach (var (a, b) in pairs) { a.Dispose(); b.Dispose(); }
            lock (forwarded) foreach (var client in forwarded) client.Dispose();
            stop.Cancel();
        }
    }

    [Theory]
    [InlineData(0, 172)]
    [InlineData(1001, 172)]
    [InlineData(50, 15)]
    [InlineData(50, 65537)]
    public void A_shape_out_of_range_says_what_is_wrong(int rate, int bytes) =>
        Assert.NotNull(new MediaShape(rate, bytes).Problem());

    [Fact]
    public void The_voice_shape_is_usable() => Assert.Null(MediaShape.Voice.Problem());
}
