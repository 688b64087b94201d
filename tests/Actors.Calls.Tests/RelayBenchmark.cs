using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Calls.Protocol;
using Actors.Calls.Relay;
using Actors.Calls.Tests.Nat;
using Actors.Calls.Tests.Support;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Calls.Tests;

/// <summary>
/// Relay throughput for one call against socat relaying the same bytes, in the same run, on
/// loopback. Opt-in (CALLS_BENCH=1, size in MiB from CALLS_BENCH_MIB, default 256): it loads the
/// machine. Prints MB/s and the ratio.
/// </summary>
public sealed class RelayBenchmark(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("CALLS_BENCH") == "1";
    private static long Bytes => (long.TryParse(Environment.GetEnvironmentVariable("CALLS_BENCH_MIB"), out var m) ? m : 256) << 20;

    [Fact]
    public async Task Relay_throughput_against_socat()
    {
        if (!Enabled) { output.WriteLine("benchmark not run: set CALLS_BENCH=1"); return; }
        using var lab = new CallLab();
        var (_, relay, port) = lab.Relay(s => s with { MaxBytesPerDirection = long.MaxValue });
        var ours = await MeasureRelay(relay, port);
        var socat = await MeasureSocat();
        output.WriteLine($"relay: {ours:F0} MB/s, socat: {socat:F0} MB/s, ratio {ours / socat:F2} ({Bytes >> 20} MiB, one direction)");
        Console.WriteLine($"BENCH relay {ours:F0} MB/s socat {socat:F0} MB/s ratio {ours / socat:F2}");
    }

    private async Task<double> MeasureRelay(IActorRef relay, int port)
    {
        var session = (SessionAllocated)await relay.Ask<object>(new AllocateSession("bench"), TimeSpan.FromSeconds(5));
        using var a = new RawClient(port);
        using var b = new RawClient(port);
        a.Send(new Join("bench", session.CallerToken, "a"));
        b.Send(new Join("bench", session.CalleeToken, "b"));
        Assert.IsType<Joined>(a.Next());
        Assert.IsType<Joined>(b.Next());
        return await Transfer(a.Stream, b.Stream);
    }

    private async Task<double> MeasureSocat()
    {
        using var sink = new TcpListener(IPAddress.Loopback, 0);
        sink.Start();
        var sinkPort = ((IPEndPoint)sink.LocalEndpoint).Port;
        var front = FreePort();
        using var socat = new NsProcess(null, ["socat", $"TCP-LISTEN:{front},bind=127.0.0.1,reuseaddr", $"TCP:127.0.0.1:{sinkPort}"]);
        await Task.Delay(300);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, front);
        using var server = await sink.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return await Transfer(client.GetStream(), server.GetStream());
    }

    private static async Task<double> Transfer(Stream from, Stream to)
    {
        var total = Bytes;
        var watch = Stopwatch.StartNew();
        var writer = Task.Run(async () =>
        {
            var chunk = new byte[128 * 1024];
            for (long sent = 0; sent < total; sent += chunk.Length) await from.WriteAsync(chunk);
        });
        var buffer = new byte[256 * 1024];
        long received = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (received < total)
        {
            var n = await to.ReadAsync(buffer, cts.Token);
            if (n == 0) throw new IOException($"closed after {received} bytes");
            received += n;
        }
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        return total / watch.Elapsed.TotalSeconds / 1e6;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
