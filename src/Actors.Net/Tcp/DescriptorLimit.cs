namespace Actors.Net.Tcp;

/// <summary>The process's soft limit on open file descriptors (<c>ulimit -n</c>) and how many it holds, read from /proc on Linux: the peer's connection budget and every listener (<see cref="TcpServer"/>) stay within it.</summary>
public static class DescriptorLimit
{
    /// <returns>The soft limit, or null when unknown (not Linux) or unlimited.</returns>
    public static int? Current()
    {
        try
        {
            if (!File.Exists("/proc/self/limits")) return null;
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && int.TryParse(fields[0], out var soft) ? soft : null;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <returns>Descriptors the process holds now (/proc/self/fd), or 0 when unknown.</returns>
    public static int OpenNow()
    {
        try
        {
            return Directory.Exists("/proc/self/fd") ? Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() : 0;
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    private sealed record Snapshot(int Open, long At);
    private static volatile Snapshot? _recent;

    /// <summary>
    /// <see cref="OpenNow"/>, counted at most once per <paramref name="maxAge"/> for the whole process.
    /// Counting stats every descriptor (the enumeration follows each /proc/self/fd link): 1,000
    /// listeners binding in one process (`actors peer --count 1000`) each counting 5,000 descriptors
    /// spent seconds of CPU in stat calls at start.
    /// </summary>
    public static int OpenRecently(TimeSpan maxAge)
    {
        var recent = _recent;
        if (recent is not null && System.Diagnostics.Stopwatch.GetElapsedTime(recent.At) < maxAge) return recent.Open;
        var open = OpenNow();
        _recent = new Snapshot(open, System.Diagnostics.Stopwatch.GetTimestamp());
        return open;
    }
}
