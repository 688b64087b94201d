using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>GET, HEAD, Range and conditional GET as RFC 9110 describes them, seen by HttpClient.</summary>
public sealed class StaticFileTests : WebServerHarness
{
    private static HttpClient Client(int port) => new() { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = Timeout };

    [Fact]
    public async Task Get_serves_the_file_with_type_length_and_validators()
    {
        WriteFile("hello.txt", "hello, world\n");
        var port = await StartServer();
        using var client = Client(port);
        using var response = await client.GetAsync("hello.txt");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello, world\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(13, response.Content.Headers.ContentLength);
        Assert.NotNull(response.Headers.ETag);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Contains("bytes", response.Headers.AcceptRanges);
    }

    [Theory]
    [InlineData("page.html", "text/html")]
    [InlineData("style.css", "text/css")]
    [InlineData("app.js", "application/javascript")]
    [InlineData("linux.torrent", "application/x-bittorrent")]
    [InlineData("blob.unknownext", "application/octet-stream")]
    public async Task Content_type_follows_the_extension(string name, string mediaType)
    {
        WriteFile(name, "x");
        var port = await StartServer();
        using var client = Client(port);
        using var response = await client.GetAsync(name);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Head_sends_the_headers_of_a_get_and_no_body()
    {
        WriteFile("data.bin", new byte[1000]);
        var port = await StartServer();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("HEAD /data.bin HTTP/1.1\r\nHost: x\r\n\r\nGET /data.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
        var reader = new ResponseReader(stream);
        var head = (await reader.Read(1, head: true))[0];
        Assert.Equal(200, head.Status);
        Assert.Equal("1000", head.Headers.Get("Content-Length"));
        Assert.Empty(head.Body);
        // The next response on the same connection starts right after the head: no stray body bytes.
        var get = (await reader.Read(1))[0];
        Assert.Equal(1000, get.Body.Length);
    }

    [Fact]
    public async Task Matching_if_none_match_gets_304_and_a_changed_file_gets_200()
    {
        var path = WriteFile("doc.txt", "version 1");
        var port = await StartServer();
        using var client = Client(port);
        using var first = await client.GetAsync("doc.txt");
        var etag = first.Headers.ETag!;

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "doc.txt");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag);

        File.WriteAllText(path, "version 2, longer");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        using var again = new HttpRequestMessage(HttpMethod.Get, "doc.txt");
        again.Headers.IfNoneMatch.Add(etag);
        using var modified = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.OK, modified.StatusCode);
        Assert.Equal("version 2, longer", await modified.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task If_modified_since_at_or_after_last_modified_gets_304()
    {
        var path = WriteFile("old.txt", "old");
        File.SetLastWriteTimeUtc(path, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        var port = await StartServer();
        using var client = Client(port);

        using var same = new HttpRequestMessage(HttpMethod.Get, "old.txt");
        same.Headers.IfModifiedSince = new DateTimeOffset(2020, 1, 2, 3, 4, 5, TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(same)).StatusCode);

        using var earlier = new HttpRequestMessage(HttpMethod.Get, "old.txt");
        earlier.Headers.IfModifiedSince = new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(earlier)).StatusCode);
    }

    [Theory]
    [InlineData("bytes=0-3", 0, 4)]
    [InlineData("bytes=10-", 10, 90)]
    [InlineData("bytes=-5", 95, 5)]
    [InlineData("bytes=90-1000", 90, 10)]
    public async Task A_single_range_gets_206_with_exactly_those_bytes(string range, int start, int length)
    {
        var content = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        WriteFile("r.bin", content);
        var port = await StartServer();
        using var client = Client(port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "r.bin");
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content.Skip(start).Take(length).ToArray(), await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(new ContentRangeHeaderValue(start, start + length - 1, 100), response.Content.Headers.ContentRange);
    }

    [Fact]
    public async Task An_unsatisfiable_range_gets_416_with_the_length()
    {
        WriteFile("r.bin", new byte[100]);
        var port = await StartServer();
        using var client = Client(port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "r.bin");
        request.Headers.TryAddWithoutValidation("Range", "bytes=100-200");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */100", response.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task A_range_with_a_stale_if_range_gets_the_whole_file()
    {
        WriteFile("r.bin", new byte[100]);
        var port = await StartServer();
        using var client = Client(port);
        using var request = new HttpRequestMessage(HttpMethod.Get, "r.bin");
        request.Headers.TryAddWithoutValidation("Range", "bytes=0-9");
        request.Headers.TryAddWithoutValidation("If-Range", "\"some-other-etag\"");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(100, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task A_folder_serves_its_index_html_and_a_folder_without_one_is_listed()
    {
        WriteFile("site/index.html", "<h1>home</h1>");
        WriteFile("pub/a <b>.txt", "a");
        WriteFile("pub/sub/b.txt", "b");
        var port = await StartServer();
        using var client = Client(port);

        Assert.Equal("<h1>home</h1>", await client.GetStringAsync("site/"));
        var listing = await client.GetStringAsync("pub/");
        Assert.Contains("href=\"a%20%3Cb%3E.txt\"", listing);
        Assert.Contains("a &lt;b&gt;.txt", listing); // names are escaped, not interpreted
        Assert.Contains("href=\"sub/\"", listing);
    }

    [Fact]
    public async Task A_folder_without_its_slash_is_redirected_to_it()
    {
        WriteFile("site/index.html", "x");
        var port = await StartServer();
        var response = await SendAndReadToClose(port, "GET /site HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 301", response);
        Assert.Contains("Location: /site/\r\n", response);
    }

    [Fact]
    public async Task A_large_file_arrives_complete_and_intact()
    {
        var content = new byte[24 * 1024 * 1024 + 123];
        new Random(7).NextBytes(content);
        WriteFile("big.bin", content);
        var port = await StartServer();
        using var client = Client(port);
        var downloaded = await client.GetByteArrayAsync("big.bin");
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(downloaded));
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_download_does_not_disturb_the_next_one()
    {
        WriteFile("big.bin", new byte[16 * 1024 * 1024]);
        var port = await StartServer();
        using (var quitter = await Connect(port))
        {
            var stream = quitter.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
            var buffer = new byte[4096];
            await stream.ReadExactlyAsync(buffer);
        }
        using var client = Client(port);
        Assert.Equal(16 * 1024 * 1024, (await client.GetByteArrayAsync("big.bin")).Length);
    }
}
