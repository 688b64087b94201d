using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Host.Tests;

/// <summary>
/// A client that stops reading a huge download must cost the server almost nothing: writes are
/// acknowledged, so the server reads the next chunk from disk only when the socket took the last.
/// </summary>
public sealed class BackPressureTests(ITestOutputHelper output)
{
    private const long OneGiB = 1L << 30;

    [Fact]
    public async Task A_client_that_stops_reading_a_1GiB_download_does_not_grow_server_memory()
    {
        var root = Directory.CreateTempSubdirectory("actors-backpressure-");
        try
        {
            // Sparse: a 1 GiB file that costs no disk and reads as zeros.
            await using (var file = File.Create(Path.Combine(root.FullName, "huge.bin"))) file.SetLength(OneGiB);
            var port = ActorsProcess.FreePort();
            using var server = new ActorsProcess("web", "--root", root.FullName, "--host", "127.0.0.1",
                "--port", port.ToString(), "--access-log", "off");
            await ActorsProcess.WaitForPort(port, TimeSpan.FromSeconds(30));

            // Warm up: the same code path, run to completion on a range, so the baseline includes JIT and
            // pools. 8 MiB is many chunks; a loaded machine (a full suite beside helpers' builds) once
            // needed over 100 s for three 32 MiB ranges, HttpClient's default timeout.
            using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            using (var http = new HttpClient { Timeout = TimeSpan.FromMinutes(3) })
            {
                for (var i = 0; i < 3; i++)
                {
                    using var warm = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/huge.bin");
                    warm.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 8 * 1024 * 1024 - 1);
                    using var response = await http.SendAsync(warm, cancel.Token);
                    Assert.Equal(8 * 1024 * 1024, (await response.Content.ReadAsByteArrayAsync(cancel.Token)).Length);
                }
            }
            await Task.Delay(500);
            var baseline = server.ResidentBytes();

            using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16 * 1024 };
            await stalled.ConnectAsync(IPAddress.Loopback, port);
            await stalled.SendAsync(Encoding.ASCII.GetBytes("GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
            var buffer = new byte[64 * 1024];
            long received = 0;
            while (received < 1024 * 1024) received += await ReceiveSome(stalled, buffer, cancel.Token);

            // Now read nothing for a while. Without back-pressure the server would race through the file.
            long peak = 0;
            for (var i = 0; i < 20; i++)
            {
                await Task.Delay(200);
                peak = Math.Max(peak, server.ResidentBytes());
            }
            var growth = peak - baseline;
            output.WriteLine($"baseline RSS {baseline / 1048576.0:F1} MiB, peak while stalled {peak / 1048576.0:F1} MiB, growth {growth / 1048576.0:F2} MiB");
            Assert.True(growth < 8 * 1024 * 1024, $"server memory grew by {growth / 1048576.0:F1} MiB while the client did not read");

            // The stalled download is intact and resumes when the client reads again.
            long more = 0;
            while (more < 8 * 1024 * 1024) more += await ReceiveSome(stalled, buffer, cancel.Token);
            Assert.True(more >= 8 * 1024 * 1024);
        }
        finally { root.Delete(recursive: true); }
    }

    private static async Task<int> ReceiveSome(Socket socket, byte[] buffer, CancellationToken cancel)
    {
        var read = await socket.ReceiveAsync(buffer, cancel);
        Assert.True(read > 0, "the server closed the download before sending the whole file");
        return read;
    }
}
