using System.Security.Cryptography;
using Actors.Torrent.Metainfo;
using Microsoft.Win32.SafeHandles;

namespace Actors.Torrent.Peer.Storage;

/// <summary>
/// A torrent's content on disk: the files in torrent order seen as one byte range, read and
/// written with positional I/O (<see cref="RandomAccess"/>), so a piece or block that spans
/// files is split across them. Files are created at their full length (pre-allocated) when
/// opened. Not thread-safe: one <see cref="StorageActor"/> owns it.
/// </summary>
public sealed class PieceStore : IDisposable
{
    private readonly TorrentMetainfo _torrent;
    private readonly SafeFileHandle[] _handles;
    private readonly bool[] _created;

    private PieceStore(TorrentMetainfo torrent, string root, SafeFileHandle[] handles, bool[] created)
    {
        _torrent = torrent;
        Root = root;
        _handles = handles;
        _created = created;
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

    /// <summary>Opens (creating and pre-allocating where missing) every file of the torrent under <paramref name="directory"/>.</summary>
    public static PieceStore Open(TorrentMetainfo torrent, string directory)
    {
        var handles = new SafeFileHandle[torrent.Files.Count];
        var created = new bool[torrent.Files.Count];
        try
        {
            for (var i = 0; i < handles.Length; i++)
            {
                var file = torrent.Files[i];
                var path = PathOf(torrent, directory, file);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                created[i] = !File.Exists(path);
                handles[i] = created[i]
                    ? File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.None, file.Length)
                    : File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                if (RandomAccess.GetLength(handles[i]) != file.Length)
                    RandomAccess.SetLength(handles[i], file.Length);
            }
        }
        catch
        {
            foreach (var handle in handles) handle?.Dispose();
            throw;
        }
        var root = torrent.IsMultiFile
            ? Path.Combine(Path.GetFullPath(directory), torrent.Name)
            : PathOf(torrent, directory, torrent.Files[0]);
        return new PieceStore(torrent, root, handles, created);
    }

    public byte[] ReadBlock(int index, int begin, int length)
    {
        var block = new byte[length];
        Read((long)index * _torrent.PieceLength + begin, block);
        return block;
    }

    public void WritePiece(int index, ReadOnlySpan<byte> data) => Write((long)index * _torrent.PieceLength, data);

    /// <summary>True when <paramref name="data"/> hashes to piece <paramref name="index"/>'s SHA-1.</summary>
    public bool Matches(int index, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(data, hash);
        return data.Length == _torrent.PieceSize(index) && hash.SequenceEqual(_torrent.PieceHash(index).Span);
    }

    /// <summary>
    /// Hashes what is on disk and returns the pieces that verify. Pieces lying only in files we
    /// just created are skipped: they hold zeros.
    /// </summary>
    public PieceSet CheckExisting(CancellationToken cancel = default)
    {
        var have = new PieceSet(_torrent.PieceCount);
        var buffer = new byte[_torrent.PieceLength];
        for (var index = 0; index < _torrent.PieceCount; index++)
        {
            cancel.ThrowIfCancellationRequested();
            var start = (long)index * _torrent.PieceLength;
            var size = _torrent.PieceSize(index);
            if (OnlyInCreatedFiles(start, size)) continue;
            var piece = buffer.AsSpan(0, size);
            Read(start, piece);
            if (Matches(index, piece)) have.Add(index);
        }
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

    private void Read(long offset, Span<byte> buffer)
    {
        foreach (var (file, fileOffset, at, count) in Segments(offset, buffer.Length))
        {
            var slice = buffer.Slice(at, count);
            var position = fileOffset;
            while (slice.Length > 0)
            {
                var n = RandomAccess.Read(_handles[file], slice, position);
                if (n <= 0) throw new IOException("file shorter than the torrent says");
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
