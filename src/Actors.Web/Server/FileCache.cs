using System.Collections.Concurrent;
using Actors.Web.Http;
using Actors.Web.Telemetry;

namespace Actors.Web.Server;

/// <summary>
/// Small files held in memory, shared by every connection of one server: a request for one costs
/// a <c>stat</c> instead of the document root's walk and an open, lock, read, unlock and close (about
/// an eighth of a static file's CPU with a connection per request; src/Actors.Net/README.md, "Small
/// files from memory").
/// <para>
/// A cached file is served only while its size, modification time (to the nanosecond) and mode are
/// what they were when it was read, checked on every request, so a changed file is never served
/// stale the way a cache with a validity period would. A file modified within the last
/// <see cref="SettleTime"/> is not kept: file system clocks tick coarsely (milliseconds), so a second
/// write of the same length within one tick would leave all three unchanged. Only bytes read
/// through a path the document root accepted are kept, so a file later swapped for a link out of
/// the root fails the check and goes back through the root's walk.
/// </para>
/// <para>
/// Bounded by <see cref="Capacity"/> bytes (content plus a fixed charge per entry); when full,
/// entries not used since the last sweep go first (a clock sweep).
/// </para>
/// </summary>
public sealed class FileCache
{
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(2);

    /// <summary>What an entry costs beyond its bytes: its key, strings and objects, roughly.</summary>
    public const int EntryOverhead = 512;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Lock _sizeLock = new();
    private long _bytes;
    private long _hits;

    public FileCache(long capacity, long maxFileBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        MaxFileBytes = Math.Min(maxFileBytes, capacity - EntryOverhead);
    }

    public long Capacity { get; }
    public long MaxFileBytes { get; }
    public int Count => _entries.Count;
    public long Bytes => Interlocked.Read(ref _bytes);
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>The cached representation for a request path, if its file is still the one read.</summary>
    public bool TryGet(string requestPath, out FileRepresentation representation)
    {
        representation = null!;
        if (!_entries.TryGetValue(requestPath, out var entry)) return false;
        if (!entry.Stamp.Matches(new FileInfo(entry.Representation.FullPath)))
        {
            Remove(requestPath, entry);
            return false;
        }
        entry.Used = true;
        Interlocked.Increment(ref _hits);
        WebMetrics.FileCacheHits.Add(1);
        representation = entry.Representation;
        return true;
    }

    /// <summary>
    /// Reads a file the document root resolved for <paramref name="requestPath"/> and keeps it, if it
    /// is small and settled. Null when it is not kept; the caller then serves it from disk.
    /// </summary>
    public FileRepresentation? TryAdd(string requestPath, FileInfo file, DateTime utcNow)
    {
        // Files reached through a link are served from disk (StaticFiles).
        if (FileRepresentation.IsLink(file)) return null;
        if (file.Length > MaxFileBytes || utcNow - file.LastWriteTimeUtc < SettleTime) return null;
        var stamp = FileStamp.Of(file);
        var content = new byte[file.Length];
        try
        {
            using var handle = File.OpenHandle(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var filled = 0;
            while (filled < content.Length)
            {
                var read = RandomAccess.Read(handle, content.AsSpan(filled), filled);
                if (read <= 0) return null; // shrank under us
                filled += read;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the caller's own open reports it
        }
        // Written to while we read: keep nothing (the caller serves this request from disk).
        if (!stamp.Matches(new FileInfo(file.FullName))) return null;

        var entry = new Entry(FileRepresentation.Of(file, content), stamp, content.Length + EntryOverhead + requestPath.Length * 2);
        lock (_sizeLock)
        {
            if (_entries.TryGetValue(requestPath, out var old))
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(requestPath, old));
                _bytes -= old.Cost;
            }
            MakeRoom(entry.Cost);
            _entries[requestPath] = entry;
            _bytes += entry.Cost;
        }
        return entry.Representation;
    }

    private void Remove(string requestPath, Entry entry)
    {
        lock (_sizeLock)
        {
            if (_entries.TryRemove(new KeyValuePair<string, Entry>(requestPath, entry)))
                _bytes -= entry.Cost;
        }
    }

    // Clock sweep: an entry used since the last sweep gets another round; the rest go. Two rounds
    // always suffice, since the first clears every mark.
    private void MakeRoom(long cost)
    {
        for (var round = 0; round < 2 && _bytes + cost > Capacity; round++)
        {
            foreach (var (key, entry) in _entries)
            {
                if (_bytes + cost <= Capacity) return;
                if (entry.Used)
                {
                    entry.Used = false;
                    continue;
                }
                if (_entries.TryRemove(new KeyValuePair<string, Entry>(key, entry)))
                    _bytes -= entry.Cost;
            }
        }
    }

    private sealed class Entry(FileRepresentation representation, FileStamp stamp, long cost)
    {
        public FileRepresentation Representation { get; } = representation;
        public FileStamp Stamp { get; } = stamp;
        public long Cost { get; } = cost;
        public volatile bool Used;
    }

    /// <summary>What a stat says about a file that changes whenever its bytes or access might.</summary>
    private readonly record struct FileStamp(long Length, DateTime LastWriteUtc, int Mode)
    {
        public static FileStamp Of(FileInfo file) => new(file.Length, file.LastWriteTimeUtc, ModeOf(file));

        /// <summary>One <c>stat</c> (FileInfo reads them all at once); false for a file that is gone or no longer a file.</summary>
        public bool Matches(FileInfo now) =>
            now.Exists && !FileRepresentation.IsLink(now) && now.Length == Length && now.LastWriteTimeUtc == LastWriteUtc && ModeOf(now) == Mode;

        private static int ModeOf(FileInfo file) => OperatingSystem.IsWindows() ? (int)file.Attributes : (int)file.UnixFileMode;
    }
}
