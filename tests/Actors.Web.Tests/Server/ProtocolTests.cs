using System.Text;
using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>Connection management and error statuses, over raw sockets.</summary>
public sealed class ProtocolTests : WebServerHarness
{
    [Fact]
    public async Task Keep_alive_serves_several_requests_on_one_connection()
    {
        WriteFile("a.txt", "A");
        WriteFile("b.txt", "BB");
        var port = await StartServer();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        foreach (var (path, body) in new[] { ("/a.txt", "A"), ("/b.txt", "BB"), ("/a.txt", "A") })
        {
            var response = await GetKeptAlive(stream, path);
            Assert.Equal(body, Encoding.ASCII.GetString(response.Body));
            Assert.True(response.KeepAlive);
        }
    }

    [Fact]
    public async Task Pipelined_requests_in_one_packet_are_answered_in_order()
    {
        WriteFile("1.txt", "one");
        WriteFile("2.txt", "two");
        var port = await StartServer();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        var requests = string.Concat(new[] { "1", "2", "missing", "1" }.Select(n => $"GET /{n}.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests));
        var responses = await ReadResponses(stream, 4);
        Assert.Equal(new[] { 200, 200, 404, 200 }, responses.Select(r => r.Status));
        Assert.Equal(new[] { "one", "two" }, responses.Take(2).Select(r => Encoding.ASCII.GetString(r.Body)));
    }

    [Fact]
    public async Task A_request_split_into_single_bytes_is_understood()
    {
        WriteFile("a.txt", "A");
        var port = await StartServer();
        using var tcp = await Connect(port);
        tcp.NoDelay = true;
        var stream = tcp.GetStream();
        foreach (var b in Encoding.ASCII.GetBytes("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"))
        {
            await stream.WriteAsync(new[] { b });
            await stream.FlushAsync();
        }
        Assert.Equal(200, (await ReadResponses(stream, 1))[0].Status);
    }

    [Fact]
    public async Task Connection_close_closes_after_the_response()
    {
        WriteFile("a.txt", "A");
        var port = await StartServer();
        var response = await SendAndReadToClose(port, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("Connection: close\r\n", response);
        Assert.EndsWith("\r\n\r\nA", response);
    }

    [Fact]
    public async Task Http10_closes_by_default_and_keeps_alive_when_asked()
    {
        WriteFile("a.txt", "A");
        var port = await StartServer();
        var closed = await SendAndReadToClose(port, "GET /a.txt HTTP/1.0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", closed);

        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        var first = (await ReadResponses(stream, 1))[0];
        Assert.Equal("keep-alive", first.Headers.Get("Connection"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /a.txt HTTP/1.0\r\n\r\n"));
        Assert.Equal(200, (await ReadResponses(stream, 1))[0].Status);
    }

    public static TheoryData<string, int> BadRequests => new()
    {
        { "GARBAGE\r\n\r\n", 400 },
        { "GET /a.txt HTTP/1.1\r\n\r\n", 400 },                                    // HTTP/1.1 without Host
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },
        { "GET /a.txt HTTP/1.1\r\nHost : x\r\n\r\n", 400 },                         // space before colon
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400 },
        { "GET /a.txt HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
        { "GET /a.txt HTTP/3.1\r\nHost: x\r\n\r\n", 505 },
        { "BREW /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 501 },
        { "DELETE /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 405 },
        { "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405 },
        { "GET /" + new string('a', 2000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414 },
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('b', 5000) + "\r\n\r\n", 431 },
        { "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", 413 },
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
        { "GET /nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_gets_its_status_and_the_server_keeps_serving(string request, int status)
    {
        WriteFile("a.txt", "A");
        var port = await StartServer();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        var response = (await ReadResponses(stream, 1))[0];
        Assert.Equal(status, response.Status);
        if (status == 405) Assert.Equal("GET, HEAD, OPTIONS", response.Headers.Get("Allow"));

        var next = await SendAndReadToClose(port, "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", next);
    }

    [Fact]
    public async Task A_request_head_that_never_completes_gets_408()
    {
        var port = await StartServer();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n"));
        var response = await ReadToClose(stream);
        Assert.StartsWith("HTTP/1.1 408", response);
    }

    [Fact]
    public async Task Dripping_a_header_byte_by_byte_does_not_extend_the_timeout()
    {
        var port = await StartServer(); // header timeout 800 ms
        using var tcp = await Connect(port);
        tcp.NoDelay = true;
        var stream = tcp.GetStream();
        var started = DateTime.UtcNow;
        var drip = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nX-Slow: " + new string('s', 100));
        var closed = false;
        foreach (var b in drip)
        {
            try { await stream.WriteAsync(new[] { b }); }
            catch (IOException) { closed = true; break; }
            if (tcp.Client.Poll(0, System.Net.Sockets.SelectMode.SelectRead)) { closed = true; break; }
            await Task.Delay(100);
        }
        Assert.True(closed, "the server should have given up on the slow header");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the timeout counts from the first byte");
    }

    [Fact]
    public async Task An_idle_keep_alive_connection_is_closed()
    {
        var settings = Settings(Root.FullName) with { IdleTimeout = TimeSpan.FromMilliseconds(300) };
        var port = await StartServer(settings);
        using var tcp = await Connect(port);
        Assert.Equal("", await ReadToClose(tcp.GetStream()));
    }

    [Fact]
    public async Task A_client_that_half_closes_after_its_requests_still_gets_every_answer()
    {
        WriteFile("a.txt", "A");
        WriteFile("b.txt", "B");
        var port = await StartServer();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
        tcp.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send); // FIN, as `nc -q` or a shell script would
        var all = await ReadToClose(stream);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(all, "HTTP/1.1 200 OK").Count);
        Assert.EndsWith("\r\n\r\nB", all);
    }

    [Fact]
    public async Task Options_answers_with_allow()
    {
        var port = await StartServer();
        var response = await SendAndReadToClose(port, "OPTIONS / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 204", response);
        Assert.Contains("Allow: GET, HEAD, OPTIONS\r\n", response);
    }
}
