using System.Buffers;
using System.Text;

namespace Actors.Web.Http;

/// <summary>Byte-level grammar shared by the decoders (RFC 9110 §5, RFC 9112 §2-5).</summary>
internal static class HttpSyntax
{
    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    private static readonly SearchValues<byte> TokenChars = SearchValues.Create(
        "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Controls other than HTAB (CR and LF included: they may not appear inside a field line).
    private static readonly SearchValues<byte> ForbiddenInFieldValue = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127]);

    public static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && s.IndexOfAnyExcept(TokenChars) < 0;

    public static bool IsTokenChar(byte b) => TokenChars.Contains(b);

    public static bool IsWhitespace(byte b) => b is (byte)' ' or (byte)'\t';

    public static bool HasForbiddenFieldByte(ReadOnlySpan<byte> s) => s.IndexOfAny(ForbiddenInFieldValue) >= 0;

    public static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);

    /// <summary>Strips the LF and an optional CR before it (bare LF is accepted, RFC 9112 §2.2).</summary>
    public static ReadOnlySpan<byte> WithoutLineEnding(ReadOnlySpan<byte> line)
    {
        var n = line.Length - 1;
        if (n > 0 && line[n - 1] == '\r') n--;
        return line[..n];
    }

    /// <summary>Splits "name: value" (no whitespace before the colon, value trimmed, no controls).</summary>
    public static bool TrySplitField(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var colon = line.IndexOf((byte)':');
        name = colon > 0 ? line[..colon] : default;
        value = colon > 0 ? TrimWhitespace(line[(colon + 1)..]) : default;
        return colon > 0 && IsToken(name) && !HasForbiddenFieldByte(value);
    }

    /// <summary>"HTTP/d.d": 1 = known version, 0 = well-formed but unsupported, -1 = not a version.</summary>
    public static int ParseVersion(ReadOnlySpan<byte> s, out HttpVersion version)
    {
        version = HttpVersion.Http11;
        if (s.Length != 8 || !s.StartsWith("HTTP/"u8) || !char.IsAsciiDigit((char)s[5]) || s[6] != '.' || !char.IsAsciiDigit((char)s[7]))
            return -1;
        if (s[5] != '1') return 0;
        if (s[7] == '1') return 1;
        if (s[7] != '0') return 0;
        version = HttpVersion.Http10;
        return 1;
    }

    /// <summary>1*DIGIT, saturating at long.MaxValue so huge values are "too large", not "malformed".</summary>
    public static bool TryParseDecimal(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.IsEmpty) return false;
        foreach (var b in s)
        {
            if (!char.IsAsciiDigit((char)b)) return false;
            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : value * 10 + (b - '0');
        }
        return true;
    }

    private static readonly string[] CommonNames =
    [
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection", "Content-Length",
        "Content-Type", "Transfer-Encoding", "Range", "If-None-Match", "If-Modified-Since", "If-Range",
        "Cache-Control", "Referer", "Cookie", "Authorization", "Upgrade-Insecure-Requests", "Pragma",
        "Date", "Server", "Last-Modified", "ETag", "Location", "Content-Range", "Accept-Ranges", "Expires",
        "Set-Cookie", "Vary", "Keep-Alive", "Content-Encoding",
    ];

    /// <summary>Field names as strings, spelled as received; well-known names reuse one instance instead of allocating.</summary>
    public static string FieldName(ReadOnlySpan<byte> name)
    {
        foreach (var known in CommonNames)
            if (known.Length == name.Length && Ascii.Equals(name, known))
                return known;
        return Encoding.ASCII.GetString(name);
    }

    /// <summary>Field values may carry obs-text; Latin-1 maps every byte to one char and back.</summary>
    public static string FieldValue(ReadOnlySpan<byte> value) => value.IsEmpty ? "" : Encoding.Latin1.GetString(value);
}
