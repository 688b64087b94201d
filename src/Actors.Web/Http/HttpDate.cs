using System.Globalization;

namespace Actors.Web.Http;

/// <summary>HTTP dates (RFC 9110 §5.6.7): always sent as IMF-fixdate, the two obsolete forms also accepted.</summary>
public static class HttpDate
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] ShortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    private static readonly string[] LongDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    /// <summary>"Sun, 06 Nov 1994 08:49:37 GMT" (sub-second precision is dropped).</summary>
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss 'GMT'", CultureInfo.InvariantCulture);

    /// <summary>Parses IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994").</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (text is null) return false;
        var s = text.AsSpan().Trim(' ');
        var comma = s.IndexOf(',');
        if (comma == 3) return ParseImfFixdate(s, out value);
        if (comma > 3) return ParseRfc850(s, comma, out value);
        return ParseAsctime(s, out value);
    }

    // "Sun, 06 Nov 1994 08:49:37 GMT"
    private static bool ParseImfFixdate(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        return s.Length == 29 && IsOneOf(s[..3], ShortDays) && s[4] == ' ' && s[7] == ' ' && s[11] == ' '
            && s[16] == ' ' && s[25..].SequenceEqual(" GMT")
            && Digits(s[5..7], out var day) && Month(s[8..11], out var month) && Digits(s[12..16], out var year)
            && Build(year, month, day, s[17..25], out value);
    }

    // "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years ahead is in the past century (RFC 9110 §5.6.7).
    private static bool ParseRfc850(ReadOnlySpan<char> s, int comma, out DateTimeOffset value)
    {
        value = default;
        var rest = s[(comma + 1)..];
        if (!IsOneOf(s[..comma], LongDays) || rest.Length != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-'
            || rest[10] != ' ' || !rest[19..].SequenceEqual(" GMT")
            || !Digits(rest[1..3], out var day) || !Month(rest[4..7], out var month) || !Digits(rest[8..10], out var yy))
            return false;
        var thisYear = DateTime.UtcNow.Year;
        var year = thisYear / 100 * 100 + yy;
        if (year > thisYear + 50) year -= 100;
        return Build(year, month, day, rest[11..19], out value);
    }

    // "Sun Nov  6 08:49:37 1994" (day padded with a space)
    private static bool ParseAsctime(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (s.Length != 24 || !IsOneOf(s[..3], ShortDays) || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
            return false;
        var dayText = s[8] == ' ' ? s[9..10] : s[8..10];
        return Month(s[4..7], out var month) && Digits(dayText, out var day) && Digits(s[20..24], out var year)
            && Build(year, month, day, s[11..19], out value);
    }

    // "HH:mm:ss"
    private static bool Build(int year, int month, int day, ReadOnlySpan<char> time, out DateTimeOffset value)
    {
        value = default;
        if (time[2] != ':' || time[5] != ':' || !Digits(time[..2], out var h) || !Digits(time[3..5], out var m)
            || !Digits(time[6..8], out var sec) || h > 23 || m > 59 || sec > 60 || year < 1
            || day < 1 || day > DateTime.DaysInMonth(year, month))
            return false;
        // A leap second (":60") is representable on the wire but not in DateTime; treat it as the next second.
        value = new DateTimeOffset(year, month, day, h, m, Math.Min(sec, 59), TimeSpan.Zero).AddSeconds(sec == 60 ? 1 : 0);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, out int value)
    {
        value = 0;
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value * 10 + (c - '0');
        }
        return !s.IsEmpty;
    }

    private static bool Month(ReadOnlySpan<char> s, out int month)
    {
        for (month = 1; month <= 12; month++)
            if (s.SequenceEqual(Months[month - 1])) return true;
        return false;
    }

    private static bool IsOneOf(ReadOnlySpan<char> s, string[] names)
    {
        foreach (var name in names)
            if (s.SequenceEqual(name)) return true;
        return false;
    }
}
