namespace Actors.Lab.Api;

/// <summary>Reads "a=1&amp;b=x" query strings (percent-decoded; '+' is a space); later keys win.</summary>
public static class Query
{
    public static Dictionary<string, string> Parse(string? query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(query)) return result;
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Decode(equals < 0 ? pair : pair[..equals]);
            result[key] = equals < 0 ? "" : Decode(pair[(equals + 1)..]);
        }
        return result;
    }

    private static string Decode(string text)
    {
        try { return Uri.UnescapeDataString(text.Replace('+', ' ')); }
        catch (UriFormatException) { return text; }
    }
}
