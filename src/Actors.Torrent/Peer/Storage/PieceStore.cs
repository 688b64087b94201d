using System.Security.Cryptography;
using Actors.Torrent.Metainfo;
using Microsoft.Win32.SafeHandles;

namespace Actors.Torrent.Peer.Storage;

/// <summary>
/// A torrent's content on disk: the files in torrent order seen as one byte range, read and
/// written with positional I/O (<see cref="RandomAccess"/>), so a piece or block that spans
/// files is split across them. Missing files are created at their full length (pre-allocated)
/// when opened; existing files are verified, never truncated (<see cref="CheckExisting"/>).
/// Not thread-safe: one <see cref="StorageActor"/> owns it.
/// </summary>
public sealed class PieceStore : IDisposable
{
    private readonly TorrentMetainfo _torrent;
    private readonly SafeFileHandle[] _handles;
    private readonly bool[] _created;
    private readonly string[] _paths;
    // Bytes on disk per file: shorter than the torrent's file until CheckExisting has judged it and grown it.
    private readonly long[] _lengths;
    private bool _checked;

    private PieceStore(TorrentMetainfo torrent, string root, SafeFileHandle[] handles, bool[] created, string[] paths, long[] lengths)
    {
        _torrent = torrent;
        Root = root;
        _handles = handles;
        _created = created;
        _paths = paths;
        _lengths = lengths;
        _checked = created.All(c => c); // nothing existed: nothing to judge
    }

    /// <summary>The single file, or the top directory of a multi-file torrent.</summary>
    public string Root { get; }

    /// <summary>Where <paramref name="file"/> lives under <paramref name="directory"/>; throws if it would escape it.</summary>
    public static string PathOf(TorrentMetainfo torrent, string directory, TorrentFile file)
    {
        var baseDir = Path.GetFullPath(directory);
        var segments = torrent.IsMultiFile ? file.PathSegments.Prepend(torrent.Name) : file.PathSegments;
        foreach (var segment in segments)
        {
            if (TorrentPath.Problem(segment) is { } problem)
                throw new IOException($"Torrent path segment '{segment}' {problem}.");
        }
        var full = Path.GetFullPath(Path.Combine([baseDir, .. segments]));
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(baseDir) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new IOException($"Torrent path '{file.RelativePath}' leaves '{baseDir}'.");
        return full;
    }

    /// <summary>
    /// Opens every file of the torrent under <paramref name="directory"/>, creating and
    /// pre-allocating the missing ones (so a full disk shows at once). An existing file is never
    /// truncated: one longer than the torrent says is refused here, before anything is written,
    /// and the others are judged by <see cref="CheckExisting"/> (see the Peer README, "Existing files").
    /// </summary>
    /// <exception cref="IOException">A file cannot be created or opened, or is refused; the message names it.</exception>
    public static PieceStore Open(TorrentMetainfo torrent, string directory)
    {
        var handles = new SafeFileHandle[torrent.Files.Count];
        var created = new bool[torrent.Files.Count];
        var paths = new string[torrent.Files.Count];
        var lengths = new long[torrent.Files.Count];
        try
        {
            for (var i = 0; i < handles.Length; i++)
            {
                var file = torrent.Files[i];
                var path = paths[i] = PathOf(torrent, directory, file);
                if (Directory.Exists(path)) throw new IOException($"'{path}' is a folder where the torrent has a file; refusing to touch it");
                try
                {
                    created[i] = !File.Exists(path);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    handles[i] = created[i]
                        ? File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.None, file.Length)
                        : File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new IOException($"cannot {(created[i] ? "create" : "open")} '{path}': {ex.Message}", ex);
                }
                // Pre-allocation reserves the space but keeps the length at 0: give it its full length now.
                if (created[i]) RandomAccess.SetLength(handles[i], file.Length);
                lengths[i] = RandomAccess.GetLength(handles[i]);
                if (lengths[i] > file.Length)
                    throw new IOException($"'{path}' exists and is longer than the torrent's file ({lengths[i]} > {file.Length} bytes); refusing to truncate it");
            }
        }
        catch
        {
            foreach (var handle in handles) handle?.Dispose();
            // Only what we created goes: an empty file we made a moment ago.
            for (var i = 0; i < handles.Length; i++)
                if (created[i] && paths[i] is not null && handles[i] is not null) TryDelete(paths[i]);
            throw;
        }
        var root = torrent.IsMultiFile
            ? Path.Combine(Path.GetFullPath(directory), torrent.Name)
            : paths[0];
        return new PieceStore(torrent, root, handles, created, paths, lengths);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    public byte[] ReadBlock(int index, int begin, int length)
    {
        var block = new byte[length];
        ReadBlock(index, begin, block);
        return block;
    }

    /// <summary>Reads the block at <paramref name="begin"/> of piece <paramref name="index"/> into all of <paramref name="into"/>.</summary>
    public void ReadBlock(int index, int begin, Span<byte> into) => Read(OffsetOf(index, begin), into);

    /// <summary>Where byte <paramref name="begin"/> of piece <paramref name="index"/> lies in the torrent's data.</summary>
    public long OffsetOf(int index, int begin) => (long)index * _torrent.PieceLength + begin;

    /// <summary>
    /// Reads consecutive blocks, the first at <paramref name="begin"/> of piece <paramref name="index"/>,
    /// each filling all of its buffer. Within one file that is one scatter read (<c>preadv</c>); a run
    /// that crosses files, or a short read, falls back to one read per buffer.
    /// </summary>
    public void ReadBlocks(int index, int begin, IReadOnlyList<Memory<byte>> buffers)
    {
        var offset = OffsetOf(index, begin);
        var total = 0;
        foreach (var buffer in buffers) total += buffer.Length;
        var filled = 0;
        using (var segments = Segments(offset, total).GetEnumerator())
        {
            if (segments.MoveNext() && segments.Current.Count == total)
                filled = (int)RandomAccess.Read(_handles[segments.Current.File], buffers, segments.Current.FileOffset);
        }
        if (filled == total) return;
        // What the scatter read did not fill (or the run crosses files): buffer by buffer.
        var at = 0;
        foreach (var buffer in buffers)
        {
            var done = Math.Clamp(filled - at, 0, buffer.Length);
            if (done < buffer.Length) Read(offset + at + done, buffer.Span[done..]);
            at += buffer.Length;
        }
    }

    /// <summary>Writes a piece (verified by the caller). Existing files must have been judged by <see cref="CheckExisting"/> first.</summary>
    public void WritePiece(int index, ReadOnlySpan<byte> data)
    {
        if (!_checked) throw new InvalidOperationException("existing files must be checked (CheckExisting) before anything is written");
        Write((long)index * _torrent.PieceLength, data);
    }

    /// <summary>The first file that no longer exists at its path (deleted or moved while we hold it open), or null.</summary>
    public string? MissingFile() => _paths.FirstOrDefault(path => !File.Exists(path));

    /// <summary>True when <paramref name="data"/> hashes to piece <paramref name="index"/>'s SHA-1.</summary>
    public bool Matches(int index, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(data, hash);
        return data.Length == _torrent.PieceSize(index) && hash.SequenceEqual(_torrent.PieceHash(index).Span);
    }

    /// <summary>
    /// Hashes what is on disk and returns the pieces that verify. Pieces lying only in files we
    /// just created are skipped: they hold zeros. An existing file is taken as a partial download
    /// when it holds no data (only zeros: pre-allocated, never written) or at least one piece
    /// touching it verifies; pieces that do not verify will be downloaded again over it, and a
    /// shorter file is then grown to its full length. A file holding data of which no piece
    /// verifies is not this torrent's: it is refused and nothing is written.
    /// </summary>
    /// <exception cref="IOException">A file is refused (the message names it) or cannot be read.</exception>
    public PieceSet CheckExisting(CancellationToken cancel = default)
    {
        var have = new PieceSet(_torrent.PieceCount);
        var hasData = new bool[_handles.Length];
        var verified = new bool[_handles.Length];
        var buffer = new byte[_torrent.PieceLength];
        for (var index = 0; index < _torrent.PieceCount; index++)
        {
            cancel.ThrowIfCancellationRequested();
            var start = (long)index * _torrent.PieceLength;
            var size = _torrent.PieceSize(index);
            if (OnlyInCreatedFiles(start, size)) continue;
            var piece = buffer.AsSpan(0, size);
            Read(start, piece, pastEndIsZero: true);
            var matches = Matches(index, piece);
            if (matches) have.Add(index);
            foreach (var (file, _, at, count) in Segments(start, size))
            {
                if (_created[file]) continue;
                if (matches) verified[file] = true;
                else if (!hasData[file]) hasData[file] = piece.Slice(at, count).IndexOfAnyExcept((byte)0) >= 0;
            }
        }
        for (var i = 0; i < _handles.Length; i++)
        {
            if (hasData[i] && !verified[i])
                throw new IOException($"'{_paths[i]}' exists and holds data that is not this torrent's (no piece of it verifies); refusing to overwrite it");
        }
        for (var i = 0; i < _handles.Length; i++)
        {
            if (_lengths[i] == _torrent.Files[i].Length) continue;
            // Growing appends zeros after the existing bytes: nothing is lost.
            RandomAccess.SetLength(_handles[i], _torrent.Files[i].Length);
            _lengths[i] = _torrent.Files[i].Length;
        }
        _checked = true;
        return have;
    }

    private bool OnlyInCreatedFiles(long start, int size)
    {
        for (var i = 0; i < _handles.Length; i++)
        {
            var f = _torrent.Files[i];
            if (f.Length > 0 && f.Offset < start + size && f.End > start && !_created[i]) return false;
        }
        return true;
    }

    // pastEndIsZero: while judging a shorter existing file, what it lacks reads as zeros (as it will once grown).
    private void Read(long offset, Span<byte> buffer, bool pastEndIsZero = false)
    {
        foreach (var (file, fileOffset, at, count) in Segments(offset, buffer.Length))
        {
            var slice = buffer.Slice(at, count);
            var position = fileOffset;
            while (slice.Length > 0)
            {
                var n = RandomAccess.Read(_handles[file], slice, position);
                if (n <= 0 && pastEndIsZero)
                {
                    slice.Clear();
                    break;
                }
                if (n <= 0) throw new IOException($"'{_paths[file]}' is shorter than the torrent says");
                slice = slice[n..];
                position += n;
            }
        }
    }

    private void Write(long offset, ReadOnlySpan<byte> data)
    {
        foreach (var (file, fileOffset, at, count) in Segments(offset, data.Length))
        {
            RandomAccess.Write(_handles[file], data.Slice(at, count), fileOffset);
            _created[file] = false; // no longer all zeros
            // Writing to a file deleted under us would "succeed" into an unlinked inode: say so instead.
            if (!File.Exists(_paths[file])) throw new IOException($"'{_paths[file]}' vanished while the torrent was using it");
        }
    }

    // One entry per file the range [offset, offset+length) touches.
    private IEnumerable<(int File, long FileOffset, int At, int Count)> Segments(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > _torrent.TotalLength)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} outside the torrent");
        var at = 0;
        for (var i = 0; i < _handles.Length && at < length; i++)
        {
            var file = _torrent.Files[i];
            var position = offset + at;
            if (position >= file.End || file.Length == 0) continue;
            var count = (int)Math.Min(length - at, file.End - position);
            yield return (i, position - file.Offset, at, count);
            at += count;
        }
    }

    public void Dispose()
    {
        foreach (var handle in _handles) handle.Dispose();
    }
}
