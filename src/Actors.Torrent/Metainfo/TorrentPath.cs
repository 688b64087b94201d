namespace Actors.Torrent.Metainfo;

/// <summary>
/// The rule for path segments in metainfo: whoever writes a torrent's files to disk joins these
/// segments under a download directory, so none may climb out of it or hide a separator.
/// </summary>
public static class TorrentPath
{
    /// <summary>Why <paramref name="segment"/> is not a safe file name, or null when it is.</summary>
    public static string? Problem(string segment)
    {
        if (segment.Length == 0)
        {
            return "is empty";
        }
        if (segment is "." or "..")
        {
            return $"is '{segment}'";
        }
        if (segment.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
        {
            return "contains '/', '\\' or NUL";
        }
        return null;
    }

    public static bool IsSafeSegment(string segment) => Problem(segment) is null;
}
