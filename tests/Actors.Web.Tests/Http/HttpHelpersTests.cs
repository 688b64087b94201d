using Actors.Web.Http;
using Xunit;

namespace Actors.Web.Tests.Http;

public class HttpDateTests
{
    private static readonly DateTimeOffset Sample = new(1994, 11, 6, 8, 49, 37, TimeSpan.Zero);

    [Fact]
    public void Format_produces_imf_fixdate_in_gmt()
    {
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.Format(Sample));
        Assert.Equal("Sun, 06 Nov 1994 08:49:37 GMT", HttpDate.Format(Sample.ToOffset(TimeSpan.FromHours(5)).AddTicks(1234)));
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov  6 08:49:37 1994")]
    [InlineData("  Sun, 06 Nov 1994 08:49:37 GMT ")]
    public void All_three_http_date_forms_are_parsed(string text)
    {
        Assert.True(HttpDate.TryParse(text, out var value));
        Assert.Equal(Sample, value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 UTC")]
    [InlineData("Sun, 31 Feb 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Foo 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 24:49:37 GMT")]
    [InlineData("Xyz, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 6 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun Nov 6 08:49:37 1994")]
    public void Invalid_dates_are_rejected(string? text)
    {
        Assert.False(HttpDate.TryParse(text, out _));
    }

    [Fact]
    public void Format_and_parse_round_trip()
    {
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            var date = DateTimeOffset.FromUnixTimeSeconds(random.NextInt64(0, 4_000_000_000));
            Assert.True(HttpDate.TryParse(HttpDate.Format(date), out var parsed));
            Assert.Equal(date, parsed);
        }
    }
}

public class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-499", 1000, 0, 500)]
    [InlineData("bytes=500-999", 1000, 500, 500)]
    [InlineData("bytes=500-", 1000, 500, 500)]
    [InlineData("bytes=-100", 1000, 900, 100)]
    [InlineData("bytes=-5000", 1000, 0, 1000)]
    [InlineData("bytes=900-5000", 1000, 900, 100)]
    [InlineData("bytes=0-0", 1000, 0, 1)]
    [InlineData("Bytes=1-2", 1000, 1, 2)]
    [InlineData("bytes=0-99999999999999999999999", 1000, 0, 1000)]
    public void Satisfiable_ranges_are_clamped_to_the_length(string header, long length, long start, long count)
    {
        Assert.Equal(ByteRangeResult.Satisfiable, ByteRange.TryParse(header, length, out var range));
        Assert.Equal(new ByteRange(start, count), range);
    }

    [Theory]
    [InlineData("bytes=1000-", 1000)]
    [InlineData("bytes=1000-2000", 1000)]
    [InlineData("bytes=-0", 1000)]
    [InlineData("bytes=0-", 0)]
    [InlineData("bytes=-1", 0)]
    [InlineData("bytes=99999999999999999999999-", 1000)]
    public void Ranges_starting_past_the_end_are_unsatisfiable(string header, long length)
    {
        Assert.Equal(ByteRangeResult.Unsatisfiable, ByteRange.TryParse(header, length, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("items=0-5")]
    [InlineData("bytes=0-5,10-20")]
    [InlineData("bytes=5-3")]
    [InlineData("bytes=abc")]
    [InlineData("bytes=-")]
    [InlineData("bytes=1-x")]
    [InlineData("bytes 0-5")]
    public void Absent_multiple_or_malformed_ranges_are_ignored(string? header)
    {
        Assert.Equal(ByteRangeResult.None, ByteRange.TryParse(header, 1000, out _));
    }

    [Fact]
    public void Content_range_values_are_formatted()
    {
        Assert.Equal("bytes 0-499/1234", new ByteRange(0, 500).ContentRange(1234));
        Assert.Equal("bytes */1234", ByteRange.UnsatisfiedContentRange(1234));
        Assert.Equal(499, new ByteRange(0, 500).End);
    }
}

public class EntityTagTests
{
    private static readonly DateTimeOffset When = new(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void Etag_is_strong_quoted_and_changes_with_length_or_time()
    {
        var tag = EntityTag.For(100, When);
        Assert.StartsWith("\"", tag);
        Assert.EndsWith("\"", tag);
        Assert.DoesNotContain("W/", tag);
        Assert.Equal(tag, EntityTag.For(100, When.ToOffset(TimeSpan.FromHours(2))));
        Assert.NotEqual(tag, EntityTag.For(101, When));
        Assert.NotEqual(tag, EntityTag.For(100, When.AddSeconds(1)));
    }

    [Theory]
    [InlineData("\"abc\"", true)]
    [InlineData("W/\"abc\"", true)]
    [InlineData("*", true)]
    [InlineData(" \"x\", \"abc\" ", true)]
    [InlineData("\"x\",W/\"abc\"", true)]
    [InlineData("\"a,b\", \"abc\"", true)]
    [InlineData("\"abcd\"", false)]
    [InlineData("abc", false)]
    [InlineData("\"ABC\"", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("\"unterminated", false)]
    public void If_none_match_uses_weak_comparison_lists_and_star(string? header, bool matches)
    {
        Assert.Equal(matches, EntityTag.Matches(header, "\"abc\""));
    }

    [Fact]
    public void Weak_etag_matches_its_strong_counterpart()
    {
        Assert.True(EntityTag.Matches("\"abc\"", "W/\"abc\""));
    }
}

public class MimeTypesTests
{
    [Theory]
    [InlineData("html", "text/html; charset=utf-8")]
    [InlineData(".htm", "text/html; charset=utf-8")]
    [InlineData("/site/index.HTML", "text/html; charset=utf-8")]
    [InlineData("style.css", "text/css")]
    [InlineData("app.js", "application/javascript")]
    [InlineData("data.json", "application/json")]
    [InlineData("a.png", "image/png")]
    [InlineData("a.jpg", "image/jpeg")]
    [InlineData("a.jpeg", "image/jpeg")]
    [InlineData("a.gif", "image/gif")]
    [InlineData("a.svg", "image/svg+xml")]
    [InlineData("favicon.ico", "image/x-icon")]
    [InlineData("notes.txt", "text/plain; charset=utf-8")]
    [InlineData("doc.pdf", "application/pdf")]
    [InlineData("m.wasm", "application/wasm")]
    [InlineData("v.mp4", "video/mp4")]
    [InlineData("s.mp3", "audio/mpeg")]
    [InlineData("a.zip", "application/zip")]
    [InlineData("a.tar.gz", "application/gzip")]
    [InlineData("/files/ubuntu.iso.torrent", "application/x-bittorrent")]
    [InlineData("unknown.xyz", "application/octet-stream")]
    [InlineData("/dir.d/README", "application/octet-stream")]
    [InlineData("Makefile.", "application/octet-stream")]
    [InlineData("", "application/octet-stream")]
    public void Content_type_follows_the_extension(string input, string expected)
    {
        Assert.Equal(expected, MimeTypes.ForExtension(input));
    }
}

public class HtmlTests
{
    [Theory]
    [InlineData("plain.txt", "plain.txt")]
    [InlineData("<script>&\"'", "&lt;script&gt;&amp;&quot;&#39;")]
    public void Html_encode_escapes_markup_characters(string input, string expected)
    {
        Assert.Equal(expected, Html.Encode(input));
    }
}
