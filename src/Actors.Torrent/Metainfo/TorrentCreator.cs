using System.Buffers;
using System.Numerics;
using System.Security.Cryptography;
using Actors.Torrent.Bencode;

namespace Actors.Torrent.Metainfo;

/// <summary>
/// Makes .torrent files (BEP 3): a file gives a single-file torrent, a directory a multi-file
/// torrent of everything under it. Files are hashed as one stream (pieces run across file
/// boundaries) through a small buffer, never loaded whole.
/// </summary>
public static class TorrentCreator
{
    public const int MinPieceLength = 16 * 1024;
    public const int MaxDefaultPieceLength = 16 * 1024 * 1024;
    private const int TargetMaxPieces = 2000;
    private const int ReadBufferBytes = 1024 * 1024;

    /// <summary>Creates the bencoded bytes of a torrent for <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="ArgumentException">Bad options, no content, or a file name a torrent cannot carry.</exception>
    /// <exception cref="IOException">A file could not be read or changed while it was hashed.</exception>
    public static byte[] Create(string path, TorrentCreateOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        var fullPath = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var name = Path.GetFileName(fullPath);
        CheckSegment(name, fullPath);

        List<SourceFile> files;
        bool isMultiFile;
        if (File.Exists(fullPath))
        {
            files = [new SourceFile([name], fullPath, new FileInfo(fullPath).Length)];
            isMultiFile = false;
        }
        else if (Directory.Exists(fullPath))
        {
            files = [];
            Walk(new DirectoryInfo(fullPath), fullPath, [], files);
            isMultiFile = true;
        }
        else
        {
            throw new FileNotFoundException($"No file or directory at '{path}'.", path);
        }

        var totalLength = files.Sum(static f => f.Length);
        if (totalLength == 0)
        {
            throw new ArgumentException($"'{path}' has no content to share.", nameof(path));
        }
        var pieceLength = options.PieceLength ?? ChoosePieceLength(totalLength);
        if (pieceLength < MinPieceLength || pieceLength > TorrentMetainfo.MaxPieceLength || !BitOperations.IsPow2(pieceLength))
        {
            throw new ArgumentException(
                $"Piece length {pieceLength} is not a power of two from {MinPieceLength} to {TorrentMetainfo.MaxPieceLength}.",
                nameof(options));
        }

        var info = new BDictionaryBuilder()
            .Add("name", name)
            .Add("piece length", pieceLength)
            .Add("pieces", HashPieces(files, pieceLength, totalLength));
        if (isMultiFile)
        {
            info.Add("files", new BList(files.Select(static f => (BValue)new BDictionaryBuilder()
                .Add("length", f.Length)
                .Add("path", new BList(f.Segments.Select(static s => (BValue)BString.From(s)).ToArray()))
                .Build()).ToArray()));
        }
        else
        {
            info.Add("length", totalLength);
        }
        if (options.IsPrivate)
        {
            info.Add("private", 1);
        }

        var root = new BDictionaryBuilder()
            .Add("info", info)
            .AddIfNotNull("comment", options.Comment)
            .AddIfNotNull("created by", options.CreatedBy)
            .AddIfNotNull("creation date", options.CreationDate?.ToUnixTimeSeconds());
        if (options.Trackers.Count > 0)
        {
            root.Add("announce", options.Trackers[0]);
        }
        if (options.Trackers.Count > 1)
        {
            root.Add("announce-list", new BList(options.Trackers
                .Select(static t => (BValue)new BList([BString.From(t)])).ToArray()));
        }
        return BencodeEncoder.Encode(root.Build());
    }

    /// <summary>
    /// The smallest power of two from 16 KiB that gives at most 2000 pieces (so 1000-2000 for
    /// all but small content), capped at 16 MiB.
    /// </summary>
    public static int ChoosePieceLength(long totalLength)
    {
        var pieceLength = MinPieceLength;
        while (pieceLength < MaxDefaultPieceLength && PieceCount(totalLength, pieceLength) > TargetMaxPieces)
        {
            pieceLength *= 2;
        }
        return pieceLength;
    }

    private static long PieceCount(long totalLength, int pieceLength) =>
        totalLength / pieceLength + (totalLength % pieceLength == 0 ? 0 : 1);

    /// <summary>
    /// Every file under <paramref name="directory"/>, in ordinal order of path segments. Symbolic
    /// links are followed only to files inside the root; links to directories (cycles) or out of
    /// the root are not followed.
    /// </summary>
    private static void Walk(DirectoryInfo directory, string root, List<string> prefix, List<SourceFile> files)
    {
        var entries = directory.GetFileSystemInfos();
        Array.Sort(entries, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var entry in entries)
        {
            CheckSegment(entry.Name, entry.FullName);
            List<string> segments = [.. prefix, entry.Name];
            if (entry.LinkTarget is not null)
            {
                var target = entry.ResolveLinkTarget(returnFinalTarget: true);
                if (target is FileInfo { Exists: true } file && IsInside(file.FullName, root))
                {
                    files.Add(new SourceFile(segments, entry.FullName, file.Length));
                }
                continue;
            }
            switch (entry)
            {
                case DirectoryInfo subdirectory:
                    Walk(subdirectory, root, segments, files);
                    break;
                case FileInfo file:
                    files.Add(new SourceFile(segments, file.FullName, file.Length));
                    break;
            }
        }
    }

    private static bool IsInside(string path, string root) =>
        path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void CheckSegment(string segment, string fullPath)
    {
        var problem = TorrentPath.Problem(segment);
        if (problem is not null)
        {
            throw new ArgumentException($"Cannot put '{fullPath}' in a torrent: its name {problem}.");
        }
    }

    private static byte[] HashPieces(List<SourceFile> files, int pieceLength, long totalLength)
    {
        var pieceCount = PieceCount(totalLength, pieceLength);
        if (pieceCount * TorrentMetainfo.HashLength > TorrentMetainfo.MaxTorrentFileBytes / 2)
        {
            throw new ArgumentException($"{pieceCount} pieces is too many; choose a larger piece length.");
        }
        var hashes = new byte[pieceCount * TorrentMetainfo.HashLength];
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(pieceLength, ReadBufferBytes));
        try
        {
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            var piece = 0;
            long inPiece = 0;
            foreach (var file in files)
            {
                using var stream = new FileStream(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read,
                    bufferSize: 1, FileOptions.SequentialScan);
                var remaining = file.Length;
                while (remaining > 0)
                {
                    var want = (int)Math.Min(Math.Min(buffer.Length, remaining), pieceLength - inPiece);
                    var read = stream.Read(buffer, 0, want);
                    if (read == 0)
                    {
                        throw new IOException($"'{file.FullPath}' shrank while it was being hashed.");
                    }
                    sha1.AppendData(buffer, 0, read);
                    remaining -= read;
                    inPiece += read;
                    if (inPiece == pieceLength)
                    {
                        sha1.GetHashAndReset(hashes.AsSpan(piece++ * TorrentMetainfo.HashLength, TorrentMetainfo.HashLength));
                        inPiece = 0;
                    }
                }
                if (stream.Read(buffer, 0, 1) != 0)
                {
                    throw new IOException($"'{file.FullPath}' grew while it was being hashed.");
                }
            }
            if (inPiece > 0)
            {
                sha1.GetHashAndReset(hashes.AsSpan(piece * TorrentMetainfo.HashLength, TorrentMetainfo.HashLength));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return hashes;
    }

    private sealed record SourceFile(IReadOnlyList<string> Segments, string FullPath, long Length);
}
