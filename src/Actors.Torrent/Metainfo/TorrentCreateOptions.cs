namespace Actors.Torrent.Metainfo;

/// <summary>What to put in a torrent made by <see cref="TorrentCreator"/>.</summary>
public sealed record TorrentCreateOptions
{
    /// <summary>
    /// Tracker announce URLs. The first becomes <c>announce</c>; with more than one, all are
    /// also written as a BEP 12 <c>announce-list</c>, one tier each, in this order.
    /// </summary>
    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>
    /// Bytes per piece: a power of two from 16 KiB to 64 MiB. Null picks one from the total size
    /// (a power of two from 16 KiB to 16 MiB giving at most about 2000 pieces).
    /// </summary>
    public int? PieceLength { get; init; }

    /// <summary>BEP 27 private flag.</summary>
    public bool IsPrivate { get; init; }

    public string? Comment { get; init; }

    public string? CreatedBy { get; init; } = "Actors";

    /// <summary>Written as <c>creation date</c>; null leaves it out (reproducible output).</summary>
    public DateTimeOffset? CreationDate { get; init; } = DateTimeOffset.UtcNow;
}
