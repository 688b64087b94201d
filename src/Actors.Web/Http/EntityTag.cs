namespace Actors.Web.Http;

/// <summary>Entity tags for static files and If-None-Match evaluation (RFC 9110 §8.8.3, §13.1.2).</summary>
public static class EntityTag
{
    /// <summary>A strong, quoted tag that changes whenever the file's length or modification time does.</summary>
    public static string For(long length, DateTimeOffset lastWrite) =>
        $"\"{lastWrite.UtcTicks:x}-{length:x}\"";

    /// <summary>
    /// True if an If-None-Match header matches <paramref name="etag"/> using weak comparison:
    /// "*" matches anything; otherwise any listed tag with the same opaque value, W/ or not.
    /// </summary>
    public static bool Matches(string? ifNoneMatchHeader, string etag)
    {
        ArgumentNullException.ThrowIfNull(etag);
        if (ifNoneMatchHeader is null) return false;
        var header = ifNoneMatchHeader.AsSpan().Trim(" \t");
        if (header.SequenceEqual("*")) return true;
        if (!TryReadTag(etag, out var wanted, out _)) return false;

        while (!header.IsEmpty)
        {
            header = header.TrimStart(" \t,");
            if (header.IsEmpty) break;
            if (!TryReadTag(header, out var opaque, out var rest)) return false; // malformed list: no match
            if (opaque.SequenceEqual(wanted)) return true;
            header = rest;
        }
        return false;
    }

    // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; commas may appear inside the quotes, so no naive split.
    private static bool TryReadTag(ReadOnlySpan<char> s, out ReadOnlySpan<char> opaque, out ReadOnlySpan<char> rest)
    {
        opaque = rest = default;
        if (s.StartsWith("W/")) s = s[2..];
        if (s.IsEmpty || s[0] != '"') return false;
        var close = s[1..].IndexOf('"');
        if (close < 0) return false;
        opaque = s[1..(close + 1)];
        rest = s[(close + 2)..];
        return true;
    }
}
