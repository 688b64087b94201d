using System.Text;
using Actors.Web.Http;
using Xunit;
using static Actors.Web.Tests.Http.DecoderTestKit;

namespace Actors.Web.Tests.Http;

public class HttpResponseDecoderTests
{
    private static (List<HttpResponse> Responses, DecodeStatus Final, HttpError Error) Decode(
        bool closeAtEnd, Action<HttpResponseDecoder>? setup, params byte[][] pieces)
    {
        var decoder = new HttpResponseDecoder();
        setup?.Invoke(decoder);
        var responses = new List<HttpResponse>();
        var status = DecodeStatus.NeedMore;
        HttpError error = default;
        foreach (var piece in pieces)
        {
            decoder.Feed(piece);
            while ((status = decoder.Next(out var response, out error)) == DecodeStatus.Response) responses.Add(response!);
            if (status == DecodeStatus.Error) return (responses, status, error);
        }
        if (closeAtEnd)
        {
            while ((status = decoder.Complete(out var response, out error)) == DecodeStatus.Response) responses.Add(response!);
        }
        return (responses, status, error);
    }

    [Fact]
    public void Content_length_response_is_decoded()
    {
        var (responses, final, _) = Decode(false, null, Bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"));
        var r = Assert.Single(responses);
        Assert.Equal(200, r.Status);
        Assert.Equal("OK", r.Reason);
        Assert.Equal(HttpVersion.Http11, r.Version);
        Assert.Equal("text/plain", r.Headers.Get("content-type"));
        Assert.Equal("hello", Encoding.ASCII.GetString(r.Body));
        Assert.True(r.KeepAlive);
        Assert.Equal(DecodeStatus.NeedMore, final);
    }

    [Fact]
    public void Status_line_without_reason_is_accepted()
    {
        var (responses, _, _) = Decode(false, null, Bytes("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\nHTTP/1.0 204 \r\n\r\n"));
        Assert.Equal([404, 204], responses.Select(r => r.Status));
        Assert.Equal(["", ""], responses.Select(r => r.Reason));
        Assert.False(responses[1].KeepAlive);
    }

    [Fact]
    public void Chunked_response_is_decoded()
    {
        var (responses, _, _) = Decode(false, null, Bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"));
        Assert.Equal("Wikipedia", Encoding.ASCII.GetString(Assert.Single(responses).Body));
    }

    [Fact]
    public void Body_without_length_is_read_until_close_and_not_kept_alive()
    {
        var (responses, final, _) = Decode(true, null, Bytes("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome "), Bytes("data"));
        var r = Assert.Single(responses);
        Assert.Equal("some data", Encoding.ASCII.GetString(r.Body));
        Assert.False(r.KeepAlive);
        Assert.Equal(DecodeStatus.Error, final); // nothing can follow a close
    }

    [Fact]
    public void Response_to_head_has_no_body_despite_content_length()
    {
        var (responses, _, _) = Decode(false, d => d.ExpectNoBody(),
            Bytes("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        Assert.Equal(2, responses.Count);
        Assert.Empty(responses[0].Body);
        Assert.Equal("1234", responses[0].Headers.Get("Content-Length"));
        Assert.Equal("ok", Encoding.ASCII.GetString(responses[1].Body)); // ExpectNoBody applies to one response only
    }

    [Theory]
    [InlineData(304)]
    [InlineData(204)]
    public void Not_modified_and_no_content_have_no_body(int status)
    {
        var (responses, _, _) = Decode(false, null, Bytes($"HTTP/1.1 {status} X\r\nETag: \"a\"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz"));
        Assert.Equal([status, 200], responses.Select(r => r.Status));
        Assert.Empty(responses[0].Body);
    }

    [Fact]
    public void Interim_100_continue_is_skipped()
    {
        var (responses, _, _) = Decode(false, null, Bytes("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
        var r = Assert.Single(responses);
        Assert.Equal(201, r.Status);
        Assert.False(r.Headers.Contains("Link"));
    }

    [Fact]
    public void Connection_close_response_is_not_kept_alive()
    {
        var (responses, _, _) = Decode(false, null, Bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
        Assert.False(Assert.Single(responses).KeepAlive);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Le")]
    [InlineData("")]
    public void Connection_closed_mid_response_is_an_error(string raw)
    {
        var (responses, final, error) = Decode(true, null, Bytes(raw));
        Assert.Empty(responses);
        Assert.Equal(DecodeStatus.Error, final);
        Assert.Equal(502, error.Status);
    }

    [Theory]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n", 502)]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n", 502)]
    [InlineData("HTTP/1.1 abc OK\r\n\r\n", 502)]
    [InlineData("ICY 200 OK\r\n\r\n", 502)]
    [InlineData("HTTP/2.0 200 OK\r\n\r\n", 505)]
    [InlineData("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", 502)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 502)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 502)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", 413)]
    public void Malformed_response_is_an_error(string raw, int status)
    {
        var (_, final, error) = Decode(false, null, Bytes(raw));
        Assert.Equal(DecodeStatus.Error, final);
        Assert.Equal(status, error.Status);
    }

    [Fact]
    public void Oversized_head_and_body_are_bounded()
    {
        var decoder = new HttpResponseDecoder(maxBodyBytes: 100, maxHeaderBytes: 1000);
        decoder.Feed(Bytes("HTTP/1.1 200 OK\r\nX: " + new string('a', 2000)));
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out var error));
        Assert.Equal(431, error.Status);

        decoder = new HttpResponseDecoder(maxBodyBytes: 100, maxHeaderBytes: 1000);
        decoder.Feed(Bytes("HTTP/1.1 200 OK\r\n\r\n"));
        decoder.Feed(new byte[101]);
        Assert.Equal(DecodeStatus.Error, decoder.Next(out _, out error));
        Assert.Equal(413, error.Status);
    }

    [Fact]
    public void Chunked_response_split_at_every_index_or_byte_by_byte_decodes_identically()
    {
        var bytes = Bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n" +
                          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
        var (whole, _, _) = Decode(false, null, bytes);
        Assert.Equal(2, whole.Count);
        var expected = whole.Select(Describe).ToList();
        for (var split = 0; split <= bytes.Length; split++)
        {
            var (responses, final, error) = Decode(false, null, bytes[..split], bytes[split..]);
            Assert.True(final == DecodeStatus.NeedMore, $"split {split}: {final} {error}");
            Assert.Equal(expected, responses.Select(Describe));
        }
        var (oneByOne, _, _) = Decode(false, null, bytes.Select(b => new[] { b }).ToArray());
        Assert.Equal(expected, oneByOne.Select(Describe));
    }

    [Fact]
    public void Read_until_close_split_at_every_index_decodes_identically()
    {
        var bytes = Bytes("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close");
        for (var split = 0; split <= bytes.Length; split++)
        {
            var (responses, _, _) = Decode(true, null, bytes[..split], bytes[split..]);
            Assert.Equal("body until close", Encoding.ASCII.GetString(Assert.Single(responses).Body));
        }
    }
}
