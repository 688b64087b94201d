using System.Text;
using Actors.Web.Http;
using Xunit;
using static Actors.Web.Tests.Http.DecoderTestKit;

namespace Actors.Web.Tests.Http;

public class HttpRequestDecoderTests
{
    [Fact]
    public void Simple_get_is_decoded_with_method_target_version_headers_and_empty_body()
    {
        var r = DecodeOne("GET /index.html?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8 \r\n\r\n");
        Assert.Equal("GET", r.Method);
        Assert.Equal("/index.html?x=1&y=2", r.Target);
        Assert.Equal("/index.html", r.Path);
        Assert.Equal("x=1&y=2", r.Query);
        Assert.Equal(HttpVersion.Http11, r.Version);
        Assert.Equal("example.com", r.Headers.Get("host"));
        Assert.Equal("curl/8", r.Headers.Get("USER-AGENT"));
        Assert.Empty(r.Body);
        Assert.True(r.KeepAlive);
    }

    [Fact]
    public void Path_without_query_has_null_query()
    {
        var r = DecodeOne("GET /a/b HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal("/a/b", r.Path);
        Assert.Null(r.Query);
    }

    [Theory]
    [InlineData("http://example.com/a/b?q=1", "/a/b", "q=1")]
    [InlineData("http://example.com", "/", null)]
    [InlineData("HTTPS://example.com:8443/x", "/x", null)]
    public void Absolute_form_target_is_accepted_and_its_path_extracted(string target, string path, string? query)
    {
        var r = DecodeOne($"GET {target} HTTP/1.1\r\nHost: example.com\r\n\r\n");
        Assert.Equal(target, r.Target);
        Assert.Equal(path, r.Path);
        Assert.Equal(query, r.Query);
    }

    [Fact]
    public void Asterisk_target_is_accepted_for_options()
    {
        var r = DecodeOne("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        Assert.Equal("*", r.Target);
    }

    [Fact]
    public void Leading_empty_lines_and_bare_lf_line_endings_are_tolerated()
    {
        var r = DecodeOne("\r\n\n\r\nGET / HTTP/1.1\nHost: h\nX: 1\n\n");
        Assert.Equal("/", r.Target);
        Assert.Equal("1", r.Headers.Get("X"));
    }

    [Fact]
    public void Repeated_headers_keep_order_and_get_combines_them()
    {
        var r = DecodeOne("GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nX-Empty:\r\naccept: b\r\n\r\n");
        Assert.Equal(["a", "b"], r.Headers.GetAll("Accept"));
        Assert.Equal("a, b", r.Headers.Get("accept"));
        Assert.Equal("", r.Headers.Get("x-empty"));
        Assert.Equal(4, r.Headers.Count);
        Assert.Equal(["Host", "Accept", "X-Empty", "accept"], r.Headers.Select(h => h.Key));
    }

    [Fact]
    public void Obs_text_in_values_is_kept_as_latin1()
    {
        var r = DecodeOne("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\u00e9\r\n\r\n");
        Assert.Equal("caf\u00e9", r.Headers.Get("X-Name"));
    }

    [Theory]
    [InlineData("HTTP/1.1", "", true)]
    [InlineData("HTTP/1.1", "Connection: close\r\n", false)]
    [InlineData("HTTP/1.1", "Connection: Keep-Alive, CLOSE\r\n", false)]
    [InlineData("HTTP/1.0", "", false)]
    [InlineData("HTTP/1.0", "Connection: keep-alive\r\n", true)]
    public void Keep_alive_follows_version_and_connection_header(string version, string header, bool keepAlive)
    {
        var r = DecodeOne($"GET / {version}\r\nHost: h\r\n{header}\r\n");
        Assert.Equal(keepAlive, r.KeepAlive);
    }

    [Fact]
    public void Http10_request_without_host_is_accepted()
    {
        var r = DecodeOne("GET / HTTP/1.0\r\n\r\n");
        Assert.Equal(HttpVersion.Http10, r.Version);
    }

    [Fact]
    public void Content_length_body_is_read()
    {
        var r = DecodeOne("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
        Assert.Equal("hello", Encoding.ASCII.GetString(r.Body));
    }

    [Fact]
    public void Repeated_identical_content_lengths_are_one_length()
    {
        var r = DecodeOne("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc");
        Assert.Equal("abc", Encoding.ASCII.GetString(r.Body));
    }

    [Fact]
    public void Chunked_body_is_decoded_ignoring_extensions_and_dropping_trailers()
    {
        var r = DecodeOne("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          "5;name=value\r\nhello\r\n1 \r\n,\r\nA\r\n world!!!!\r\n0\r\nX-Trailer: t\r\n\r\n");
        Assert.Equal("hello, world!!!!", Encoding.ASCII.GetString(r.Body));
        Assert.False(r.Headers.Contains("X-Trailer"));
    }

    [Fact]
    public void Body_bytes_are_moved_out_of_the_input_buffer_as_they_arrive()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits());
        decoder.Feed(Bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n"));
        decoder.Feed(new byte[50_000]);
        Assert.Equal(0, decoder.BufferedBytes);
        Assert.Equal(DecodeStatus.NeedMore, decoder.Next(out _, out _));
        decoder.Feed(new byte[50_000]);
        Assert.Equal(DecodeStatus.Request, decoder.Next(out var r, out _));
        Assert.Equal(100_000, r!.Body.Length);
    }

    public static TheoryData<string, int> Errors => new()
    {
        // 400: malformed request line
        { "GET\r\n\r\n", 400 },
        { "GET /\r\n\r\n", 400 },
        { "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400 },
        { "GET / http/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400 },
        { "GET / HTTP/11\r\nHost: h\r\n\r\n", 400 },
        { "G(ET / HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET /a\u0001b HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "GET /caf\u00e9 HTTP/1.1\r\nHost: h\r\n\r\n", 400 },
        { "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u01fc\u0003\u0003", 400 }, // a TLS ClientHello, rejected before any CRLF
        // 400: header syntax
        { "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\n: empty-name\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n folded\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u0000b\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u007fb\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n", 400 },
        // 400: Host rules
        { "GET / HTTP/1.1\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
        { "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", 400 },
        // 400: Content-Length
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\nhello", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400 },
        // 400: smuggling and transfer-coding framing
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400 },
        { "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
        // 400: bad chunks
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 5\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", 400 },
        // 413
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n", 413 },
        { "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", 413 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n", 413 },
        // 414
        { "GET /" + new string('a', 8 * 1024) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414 },
        // 431
        { "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + new string('a', 32 * 1024) + "\r\n\r\n", 431 },
        { "GET / HTTP/1.1\r\nHost: h\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: v\r\n")) + "\r\n", 431 },
        // 501
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
        { "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501 },
        // 505
        { "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505 },
        { "GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505 },
        { "GET / HTTP/0.9\r\n\r\n", 505 },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Invalid_request_is_rejected_with_the_right_status(string raw, int status)
    {
        var (requests, final, error) = DecodeAll(new HttpLimits(), Bytes(raw));
        Assert.Empty(requests);
        Assert.Equal(DecodeStatus.Error, final);
        Assert.Equal(status, error.Status);
        Assert.False(string.IsNullOrEmpty(error.Reason));
    }

    [Fact]
    public void Limits_at_exactly_their_value_are_accepted()
    {
        var limits = new HttpLimits(MaxRequestLineBytes: 64, MaxHeaderBytes: 64, MaxHeaderCount: 2, MaxBodyBytes: 4);
        var line = "GET /" + new string('a', 64 - "GET / HTTP/1.1\r\n".Length) + " HTTP/1.1\r\n";
        Assert.Equal(64, line.Length);
        var headers = "Host: h\r\nX: " + new string('b', 64 - "Host: h\r\nX: \r\n\r\n".Length) + "\r\n\r\n";
        Assert.Equal(64, headers.Length);
        var (requests, final, _) = DecodeAll(limits, Bytes(line + headers));
        Assert.Single(requests);
        Assert.Equal(DecodeStatus.NeedMore, final);

        var (_, tooLong, error) = DecodeAll(limits, Bytes(line.Replace("/a", "/aa") + headers));
        Assert.Equal(DecodeStatus.Error, tooLong);
        Assert.Equal(414, error.Status);
    }

    [Fact]
    public void Overlong_request_line_is_rejected_as_soon_as_the_limit_is_reached_without_crlf()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits(MaxRequestLineBytes: 100));
        decoder.Feed(Bytes("GET /" + new string('a', 94)));
        Assert.Equal(DecodeStatus.NeedMore, decoder.Next(out _, out _));
        decoder.Feed(Bytes("a"));
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out var error));
        Assert.Equal(414, error.Status);
        Assert.Equal(0, decoder.BufferedBytes);
    }

    [Fact]
    public void Overlong_header_section_is_rejected_before_its_end_arrives()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits(MaxHeaderBytes: 1000));
        decoder.Feed(Bytes("GET / HTTP/1.1\r\nHost: h\r\nX-Long: "));
        decoder.Feed(Bytes(new string('x', 1000)));
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out var error));
        Assert.Equal(431, error.Status);
    }

    [Fact]
    public void Decoder_stays_in_error_and_stops_buffering()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits());
        decoder.Feed(Bytes("GET / HTTP/1.1\r\n\r\n"));
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out var first));
        decoder.Feed(Bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
        Assert.Equal(0, decoder.BufferedBytes);
        Assert.Equal(DecodeStatus.Error, decoder.Next(out var request, out var second));
        Assert.Null(request);
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(4 * 1024)]
    [InlineData(1)]
    [InlineData(65_536)]
    public void Ten_megabytes_of_header_junk_stay_bounded_and_fail(int pieceSize)
    {
        var limits = new HttpLimits();
        foreach (var (prefix, bound, status) in new[]
                 {
                     ("GET / HTTP/1.1\r\nHost: h\r\nX-Junk: ", limits.MaxHeaderBytes, 431),      // one endless header line
                     ("GET / HTTP/1.1\r\nHost: h\r\n", limits.MaxHeaderBytes, 431),              // endless short header lines
                     ("GET /", limits.MaxRequestLineBytes, 414),                                  // endless request target
                 })
        {
            var decoder = new HttpRequestDecoder(limits);
            decoder.Feed(Bytes(prefix));
            var piece = Bytes(string.Concat(Enumerable.Repeat(prefix.EndsWith(": ") || prefix == "GET /" ? "a" : "X: y\r\n", pieceSize))[..pieceSize]);
            var sent = 0L;
            var failedAt = -1L;
            while (sent < 10 * 1024 * 1024 && (pieceSize > 1 || sent < 200_000))
            {
                decoder.Feed(piece);
                sent += piece.Length;
                Assert.True(decoder.BufferedBytes <= bound + pieceSize, $"buffered {decoder.BufferedBytes} after {sent} bytes");
                if (failedAt < 0 && decoder.Next(out _, out var error) == DecodeStatus.Error)
                {
                    Assert.Equal(status, error.Status);
                    failedAt = sent;
                }
            }
            Assert.InRange(failedAt, 1, bound + pieceSize);
        }
    }

    [Fact]
    public void Oversized_content_length_fails_before_the_body_arrives()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits(MaxBodyBytes: 10));
        decoder.Feed(Bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"));
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out var error));
        Assert.Equal(413, error.Status);
    }

    [Fact]
    public void Body_of_exactly_the_limit_is_accepted_both_framings()
    {
        var limits = new HttpLimits(MaxBodyBytes: 10);
        var (fixedLength, _, _) = DecodeAll(limits, Bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"));
        Assert.Equal(10, Assert.Single(fixedLength).Body.Length);
        var (chunked, _, _) = DecodeAll(limits, Bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n4\r\nabcd\r\n0\r\n\r\n"));
        Assert.Equal(10, Assert.Single(chunked).Body.Length);
    }

    [Fact]
    public void Chunked_body_over_the_limit_in_total_is_rejected()
    {
        var (_, final, error) = DecodeAll(new HttpLimits(MaxBodyBytes: 10),
            Bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nabcde\r\n0\r\n\r\n"));
        Assert.Equal(DecodeStatus.Error, final);
        Assert.Equal(413, error.Status);
    }

    [Fact]
    public void Three_pipelined_requests_in_one_feed_come_out_in_order()
    {
        var raw = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" +
                  "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
                  "PUT /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n";
        var (requests, final, _) = DecodeAll(new HttpLimits(), Bytes(raw));
        Assert.Equal(["/1", "/2", "/3"], requests.Select(r => r.Target));
        Assert.Equal(["", "abc", "xy"], requests.Select(r => Encoding.ASCII.GetString(r.Body)));
        Assert.Equal(DecodeStatus.NeedMore, final);
    }

    [Fact]
    public void Request_followed_by_half_of_the_next_yields_one_then_the_other_when_completed()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits());
        decoder.Feed(Bytes("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHo"));
        Assert.Equal(DecodeStatus.Request, decoder.Next(out var first, out _));
        Assert.Equal("/1", first!.Target);
        Assert.Equal(DecodeStatus.NeedMore, decoder.Next(out _, out _));
        decoder.Feed(Bytes("st: h\r\n\r\n"));
        Assert.Equal(DecodeStatus.Request, decoder.Next(out var second, out _));
        Assert.Equal("/2", second!.Target);
        Assert.Equal(0, decoder.BufferedBytes);
    }

    [Fact]
    public void Long_keep_alive_connection_keeps_the_buffer_small()
    {
        var decoder = new HttpRequestDecoder(new HttpLimits());
        var request = Bytes("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789");
        for (var i = 0; i < 10_000; i++)
        {
            decoder.Feed(request.AsSpan(0, 20));
            decoder.Feed(request.AsSpan(20));
            Assert.Equal(DecodeStatus.Request, decoder.Next(out _, out _));
            Assert.Equal(0, decoder.BufferedBytes);
        }
    }

    public static TheoryData<string> SplitRequests => new()
    {
        "POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
        "\r\nGET / HTTP/1.0\nConnection: keep-alive\n\n",
    };

    [Theory]
    [MemberData(nameof(SplitRequests))]
    public void Request_split_at_every_index_or_fed_byte_by_byte_decodes_identically(string raw)
    {
        var bytes = Bytes(raw + raw); // two, so the boundary between requests is split too
        var (whole, wholeFinal, _) = DecodeAll(new HttpLimits(), bytes);
        Assert.Equal(2, whole.Count);
        Assert.Equal(DecodeStatus.NeedMore, wholeFinal);
        var expected = whole.Select(Describe).ToList();

        for (var split = 0; split <= bytes.Length; split++)
        {
            var (requests, final, error) = DecodeAll(new HttpLimits(), bytes[..split], bytes[split..]);
            Assert.True(final == DecodeStatus.NeedMore, $"split {split}: {final} {error}");
            Assert.Equal(expected, requests.Select(Describe));
        }

        var (oneByOne, _, _) = DecodeAll(new HttpLimits(), bytes.Select(b => new[] { b }).ToArray());
        Assert.Equal(expected, oneByOne.Select(Describe));
    }
}
