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

    /// <summary>
    /// Accept dictionaries whose keys are not in bytewise order (real-world .torrent files made by
    /// old or sloppy creators have them). Off by default: protocol messages (tracker answers,
    /// peer-wire extension messages) must be canonical. Duplicate keys are refused either way,
    /// since which value would win is not defined and two readers could disagree.
    /// </summary>
    /// <remarks>
    /// A lenient decode still returns a dictionary in key order (so re-encoding it gives the
    /// canonical form, which differs from the input); hash raw values through
    /// <see cref="BDictionary.TryGetSourceRange"/>, never by re-encoding.
    /// </remarks>
    public bool AllowUnsortedKeys { get; init; }
}
