namespace Actors.Web.Http;

public enum ByteRangeResult
{
    /// <summary>No usable Range header (absent, another unit, several ranges, bad syntax): serve the whole representation with 200.</summary>
    None,

    /// <summary>Serve the range with 206.</summary>
    Satisfiable,

    /// <summary>The range starts past the end: answer 416 with "Content-Range: bytes */length".</summary>
    Unsatisfiable,
}

/// <summary>A single byte range of a representation (RFC 9110 §14).</summary>
public readonly record struct ByteRange(long Start, long Length)
{
    /// <summary>Last byte position (inclusive).</summary>
    public long End => Start + Length - 1;

    /// <summary>The Content-Range value of a 206 response, e.g. "bytes 0-499/1234".</summary>
    public string ContentRange(long totalLength) => $"bytes {Start}-{End}/{totalLength}";

    /// <summary>The Content-Range value of a 416 response.</summary>
    public static string UnsatisfiedContentRange(long totalLength) => $"bytes */{totalLength}";

    /// <summary>Interprets a Range header against a representation of <paramref name="length"/> bytes. Only a single range is honoured.</summary>
    public static ByteRangeResult TryParse(string? rangeHeader, long length, out ByteRange range)
    {
        range = default;
        if (rangeHeader is null || length < 0) return ByteRangeResult.None;
        var s = rangeHeader.AsSpan().Trim(" \t");
        if (s.Length < 6 || !s[..6].Equals("bytes=", StringComparison.OrdinalIgnoreCase)) return ByteRangeResult.None;
        s = s[6..].Trim(" \t");
        var dash = s.IndexOf('-');
        if (dash < 0 || s.Contains(',')) return ByteRangeResult.None;
        var firstText = s[..dash].Trim(" \t");
        var lastText = s[(dash + 1)..].Trim(" \t");

        if (firstText.IsEmpty)
        {
            // Suffix range "-n": the last n bytes.
            if (!TryParseNumber(lastText, out var suffix)) return ByteRangeResult.None;
            if (suffix == 0 || length == 0) return ByteRangeResult.Unsatisfiable;
            var count = Math.Min(suffix, length);
            range = new ByteRange(length - count, count);
            return ByteRangeResult.Satisfiable;
        }

        if (!TryParseNumber(firstText, out var first)) return ByteRangeResult.None;
        var last = long.MaxValue;
        if (!lastText.IsEmpty && !TryParseNumber(lastText, out last)) return ByteRangeResult.None;
        if (last < first) return ByteRangeResult.None; // invalid syntax, so ignored (RFC 9110 §14.1.1)
        if (first >= length) return ByteRangeResult.Unsatisfiable;
        last = Math.Min(last, length - 1);
        range = new ByteRange(first, last - first + 1);
        return ByteRangeResult.Satisfiable;
    }

    // 1*DIGIT, saturating: an absurdly large position is still a position.
    private static bool TryParseNumber(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.IsEmpty) return false;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (c - '0');
        }
        return true;
    }
}
