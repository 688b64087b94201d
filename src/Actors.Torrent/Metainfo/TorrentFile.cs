namespace Actors.Torrent.Metainfo;

/// <summary>
/// One file of a torrent. <see cref="Offset"/> is where the file starts in the torrent's
/// concatenated content (pieces run across file boundaries). For a multi-file torrent the path
/// is relative to the torrent's <see cref="TorrentMetainfo.Name"/> directory; a single-file
/// torrent has one file whose path is [Name]. Every segment has been checked safe to use as a
/// file name (not empty, <c>.</c> or <c>..</c>, no <c>/</c>, <c>\</c> or NUL).
/// </summary>
public sealed record TorrentFile(IReadOnlyList<string> PathSegments, long Length, long Offset)
{
    /// <summary>The path with <c>/</c> between segments, for display.</summary>
    public string RelativePath => string.Join('/', PathSegments);

    /// <summary>One past the last byte of this file in the torrent's content.</summary>
    public long End => Offset + Length;
}
