namespace Actors.Web.Http;

/// <summary>A decoded request. <see cref="Target"/> is exactly as received.</summary>
public sealed record HttpRequest(string Method, string Target, HttpVersion Version, HttpHeaders Headers, byte[] Body)
{
    /// <summary>HTTP/1.1: true unless "Connection: close"; HTTP/1.0: only with "Connection: keep-alive".</summary>
    public bool KeepAlive => Headers.KeepAlive(Version);

    /// <summary>The path part of the target (before '?'), still percent-encoded; "/" for an absolute-form target without a path.</summary>
    public string Path
    {
        get
        {
            var (start, end) = PathRange();
            return start == 0 && end == Target.Length ? Target : end > start ? Target[start..end] : "/";
        }
    }

    /// <summary>The part after the first '?', or null if there is none.</summary>
    public string? Query
    {
        get
        {
            var q = Target.IndexOf('?');
            return q < 0 ? null : Target[(q + 1)..];
        }
    }

    private (int Start, int End) PathRange()
    {
        var q = Target.IndexOf('?');
        var end = q < 0 ? Target.Length : q;
        if (Target.StartsWith('/') || Target == "*") return (0, end);

        // absolute-form "scheme://authority/path?query": the path starts at the first '/' after the authority.
        var authority = Target.IndexOf("://", StringComparison.Ordinal);
        var slash = authority < 0 ? -1 : Target.IndexOf('/', authority + 3, end - authority - 3);
        return slash < 0 ? (end, end) : (slash, end);
    }
}
