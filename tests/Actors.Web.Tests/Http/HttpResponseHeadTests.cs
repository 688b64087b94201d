using System.Text;
using Actors.Web.Http;
using Xunit;

namespace Actors.Web.Tests.Http;

public class HttpResponseHeadTests
{
    [Fact]
    public void Head_encodes_status_line_headers_and_blank_line()
    {
        var bytes = new HttpResponseHead(200).Header("Content-Type", "text/plain").Header("Content-Length", "5").Encode();
        Assert.Equal("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n", Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void Encoded_head_is_decoded_back_by_the_response_decoder()
    {
        var head = new HttpResponseHead(404).Header("Content-Length", "0").Header("X-Latin", "caf\u00e9");
        var decoder = new HttpResponseDecoder();
        decoder.Feed(head.Encode());
        Assert.Equal(DecodeStatus.Response, decoder.Next(out var r, out _));
        Assert.Equal(404, r!.Status);
        Assert.Equal("Not Found", r.Reason);
        Assert.Equal("caf\u00e9", r.Headers.Get("x-latin"));
    }

    [Theory]
    [InlineData("X-Evil", "a\r\nSet-Cookie: x=1")]
    [InlineData("X-Evil", "a\nb")]
    [InlineData("X-Evil", "a\0b")]
    [InlineData("X-Evil", "\u0100")]
    [InlineData("X Evil", "a")]
    [InlineData("X-Evil:", "a")]
    [InlineData("X\r\nEvil", "a")]
    [InlineData("", "a")]
    public void Header_with_line_breaks_or_invalid_name_is_rejected(string name, string value)
    {
        Assert.Throws<ArgumentException>(() => new HttpResponseHead(200).Header(name, value));
    }

    [Theory]
    [InlineData(200, "OK")]
    [InlineData(206, "Partial Content")]
    [InlineData(304, "Not Modified")]
    [InlineData(400, "Bad Request")]
    [InlineData(404, "Not Found")]
    [InlineData(405, "Method Not Allowed")]
    [InlineData(408, "Request Timeout")]
    [InlineData(413, "Content Too Large")]
    [InlineData(414, "URI Too Long")]
    [InlineData(416, "Range Not Satisfiable")]
    [InlineData(431, "Request Header Fields Too Large")]
    [InlineData(500, "Internal Server Error")]
    [InlineData(501, "Not Implemented")]
    [InlineData(503, "Service Unavailable")]
    [InlineData(505, "HTTP Version Not Supported")]
    [InlineData(299, "")]
    public void Reason_phrases_follow_rfc_9110(int status, string reason)
    {
        Assert.Equal(reason, HttpStatus.ReasonPhrase(status));
    }
}
