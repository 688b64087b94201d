namespace Actors.Torrent.Bencode;

/// <summary>
/// Bounds on what <see cref="BencodeDecoder"/> accepts, so hostile input costs at most a bounded
/// amount of memory and stack. Defaults suit .torrent files; a tracker or peer decoding small
/// messages should pass tighter ones.
/// </summary>
public sealed record BencodeLimits
{
    public static BencodeLimits Default { get; } = new();

    /// <summary>Deepest nesting of lists and dictionaries (a top-level list is depth 1).</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Most values decoded in total, dictionary keys included.</summary>
    public int MaxElements { get; init; } = 1_000_000;

    /// <summary>Largest input accepted.</summary>
    public int MaxInputBytes { get; init; } = 32 * 1024 * 1024;
}
