using System.Net;
using System.Net.Sockets;
using System.Text;
using Actors.Web.Client;
using Actors.Web.Tests.Server;
using Akka.Actor;
using Xunit;

namespace Actors.Web.Tests.Client;

/// <summary>Our HTTP client against our server and against hand-written raw servers.</summary>
public sealed class HttpClientActorTests : WebServerHarness
{
    private async Task<object> Get(IActorRef client, string url, TimeSpan? timeout = null) =>
        await client.Ask<object>(new HttpGet(new Uri(url), timeout), TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Gets_a_file_and_reuses_the_connection_for_the_next_request()
    {
        WriteFile("a.torrent", new byte[] { (byte)'d', (byte)'e' });
        WriteFile("b.txt", "bee");
        var port = await StartServer();
        var client = Sys.ActorOf(HttpClientActor.Props());

        var first = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{port}/a.torrent"));
        Assert.Equal(200, first.Response.Status);
        Assert.Equal("de", Encoding.ASCII.GetString(first.Response.Body));
        var second = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{port}/b.txt"));
        Assert.Equal("bee", Encoding.ASCII.GetString(second.Response.Body));

        var stats = await client.Ask<HttpClientStats>(GetHttpClientStats.Instance, Timeout);
        Assert.Equal(1, stats.ConnectionsOpened);
    }

    [Fact]
    public async Task A_404_is_a_response_not_a_failure()
    {
        var port = await StartServer();
        var client = Sys.ActorOf(HttpClientActor.Props());
        var result = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{port}/missing"));
        Assert.Equal(404, result.Response.Status);
    }

    [Fact]
    public async Task Follows_redirects_to_the_final_response()
    {
        WriteFile("dir/index.html", "landed");
        var port = await StartServer();
        var client = Sys.ActorOf(HttpClientActor.Props());
        var result = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{port}/dir"));
        Assert.Equal(200, result.Response.Status);
        Assert.Equal("landed", Encoding.ASCII.GetString(result.Response.Body));
    }

    [Fact]
    public async Task A_redirect_loop_fails_after_the_limit()
    {
        using var server = new RawServer(_ => "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
        var client = Sys.ActorOf(HttpClientActor.Props());
        var failed = Assert.IsType<HttpGetFailed>(await Get(client, $"http://127.0.0.1:{server.Port}/start"));
        Assert.Contains("redirects", failed.Reason);
        Assert.Equal(HttpClientActor.MaxRedirects + 1, server.Requests);
    }

    [Fact]
    public async Task Decodes_a_chunked_response_and_one_that_ends_at_close()
    {
        using var chunked = new RawServer(_ => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        using var untilClose = new RawServer(_ => "HTTP/1.0 200 OK\r\n\r\nall of it", closeAfter: true);
        var client = Sys.ActorOf(HttpClientActor.Props());
        var a = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{chunked.Port}/"));
        Assert.Equal("hello world", Encoding.ASCII.GetString(a.Response.Body));
        var b = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{untilClose.Port}/"));
        Assert.Equal("all of it", Encoding.ASCII.GetString(b.Response.Body));
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out()
    {
        using var silent = new RawServer(_ => null);
        var client = Sys.ActorOf(HttpClientActor.Props());
        var failed = Assert.IsType<HttpGetFailed>(await Get(client, $"http://127.0.0.1:{silent.Port}/", TimeSpan.FromMilliseconds(500)));
        Assert.Contains("in time", failed.Reason);
    }

    [Fact]
    public async Task Refused_connections_garbage_and_unsupported_urls_fail_clearly()
    {
        var closedPort = FreePort();
        using var garbage = new RawServer(_ => "SSH-2.0-OpenSSH\r\n\r\n", closeAfter: true);
        var client = Sys.ActorOf(HttpClientActor.Props());
        Assert.Contains("cannot connect", Assert.IsType<HttpGetFailed>(await Get(client, $"http://127.0.0.1:{closedPort}/")).Reason);
        Assert.Contains("bad response", Assert.IsType<HttpGetFailed>(await Get(client, $"http://127.0.0.1:{garbage.Port}/")).Reason);
        Assert.Contains("only http://", Assert.IsType<HttpGetFailed>(await Get(client, "https://example.invalid/")).Reason);
    }

    [Fact]
    public async Task An_oversized_body_is_refused_without_buffering_it()
    {
        using var huge = new RawServer(_ => "HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nxx");
        var client = Sys.ActorOf(HttpClientActor.Props(maxBodyBytes: 1024));
        Assert.IsType<HttpGetFailed>(await Get(client, $"http://127.0.0.1:{huge.Port}/"));
    }

    [Fact]
    public async Task A_pooled_connection_closed_by_the_server_is_replaced_transparently()
    {
        WriteFile("a.txt", "A");
        var port = await StartServer(Settings(Root.FullName) with { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        var client = Sys.ActorOf(HttpClientActor.Props());
        Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{port}/a.txt"));
        await Task.Delay(600); // the server closes the idle connection
        var again = Assert.IsType<HttpGetSucceeded>(await Get(client, $"http://127.0.0.1:{port}/a.txt"));
        Assert.Equal("A", Encoding.ASCII.GetString(again.Response.Body));
    }

    private static int FreePort() => Ports.Free();

    /// <summary>A tiny scripted server: answers each request head with the given text (null: stays silent).</summary>
    private sealed class RawServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _requests;
        public int Port { get; }
        public int Requests => _requests;

        public RawServer(Func<string, string?> respond, bool closeAfter = false)
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient socket;
                    try { socket = await _listener.AcceptTcpClientAsync(_stop.Token); } catch { return; }
                    _ = Task.Run(async () =>
                    {
                        using var _ = socket;
                        var stream = socket.GetStream();
                        var buffer = new byte[8192];
                        var head = new StringBuilder();
                        try
                        {
                            for (var round = 0; round < 100; round++)
                            {
                                var read = await stream.ReadAsync(buffer, _stop.Token);
                                if (read == 0) return;
                                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                                if (!head.ToString().Contains("\r\n\r\n")) continue;
                                Interlocked.Increment(ref _requests);
                                var answer = respond(head.ToString());
                                head.Clear();
                                if (answer is null) { await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, _stop.Token); return; }
                                await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), _stop.Token);
                                if (closeAfter) return;
                            }
                        }
                        catch (Exception) { }
                    });
                }
            });
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
