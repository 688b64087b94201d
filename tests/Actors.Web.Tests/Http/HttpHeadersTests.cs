using Actors.Web.Http;
using Xunit;

namespace Actors.Web.Tests.Http;

public class HttpHeadersTests
{
    [Fact]
    public void Names_are_case_insensitive_order_is_kept_and_repeats_are_allowed()
    {
        var headers = new HttpHeaders();
        headers.Add("Set-Cookie", "a=1");
        headers.Add("Content-Type", "text/plain");
        headers.Add("set-cookie", "b=2");

        Assert.Equal(3, headers.Count);
        Assert.True(headers.Contains("SET-COOKIE"));
        Assert.False(headers.Contains("Cookie"));
        Assert.Equal(["a=1", "b=2"], headers.GetAll("Set-Cookie"));
        Assert.Equal("a=1, b=2", headers.Get("set-cookie"));
        Assert.Equal("text/plain", headers.Get("content-type"));
        Assert.Null(headers.Get("Missing"));
        Assert.Empty(headers.GetAll("Missing"));
        Assert.Equal(["Set-Cookie", "Content-Type", "set-cookie"], headers.Select(h => h.Key));
    }

    [Theory]
    [InlineData("close", "close", true)]
    [InlineData("Keep-Alive, Upgrade", "upgrade", true)]
    [InlineData("keep-alive", "close", false)]
    [InlineData("closed", "close", false)]
    public void Has_token_reads_comma_separated_lists(string value, string token, bool expected)
    {
        var headers = new HttpHeaders();
        headers.Add("Connection", value);
        Assert.Equal(expected, headers.HasToken("connection", token));
    }
}
