namespace Actors.Torrent.Tracker;

/// <summary>
/// A raw URL query string split into parameters whose values are decoded bytewise: info_hash and
/// peer_id are 20 arbitrary bytes, percent-encoded, so they must never pass through a text decoder.
/// </summary>
public static class TrackerQuery
{
    /// <summary>Parses <paramref name="query"/> (the part after '?'); null with a reason when it is malformed or too big.</summary>
    public static IReadOnlyList<KeyValuePair<string, byte[]>>? Parse(string? query, int maxLength, int maxParameters, out string? error)
    {
        error = null;
        var result = new List<KeyValuePair<string, byte[]>>();
        if (string.IsNullOrEmpty(query)) return result;
        if (query.Length > maxLength) { error = "query too long"; return null; }

        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0) continue;
            if (result.Count == maxParameters) { error = "too many query parameters"; return null; }
            var equals = part.IndexOf('=');
            var rawKey = equals < 0 ? part : part[..equals];
            var rawValue = equals < 0 ? "" : part[(equals + 1)..];
            var key = Decode(rawKey);
            var value = Decode(rawValue);
            if (key is null || value is null) { error = "malformed query string"; return null; }
            result.Add(new(System.Text.Encoding.Latin1.GetString(key), value));
        }
        return result;
    }

    /// <summary>Percent-decodes <paramref name="text"/> into bytes ('+' is a space); null if it is not valid.</summary>
    public static byte[]? Decode(ReadOnlySpan<char> text)
    {
        var bytes = new byte[text.Length];
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '%')
            {
                if (i + 2 >= text.Length) return null;
                var hi = HexValue(text[i + 1]);
                var lo = HexValue(text[i + 2]);
                if (hi < 0 || lo < 0) return null;
                bytes[n++] = (byte)(hi << 4 | lo);
                i += 2;
            }
            else if (c == '+') bytes[n++] = (byte)' ';
            else if (c is > ' ' and < (char)0x7F) bytes[n++] = (byte)c;
            else return null;
        }
        return bytes.AsSpan(0, n).ToArray();
    }

    /// <summary>Percent-encodes every byte except RFC 3986 unreserved characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var text = new System.Text.StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
                text.Append((char)b);
            else
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
