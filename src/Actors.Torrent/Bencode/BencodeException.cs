namespace Actors.Torrent.Bencode;

/// <summary>Input is not valid (strict, canonical) bencode or exceeds a <see cref="BencodeLimits"/>.</summary>
public sealed class BencodeException : FormatException
{
    public BencodeException(string reason, int offset)
        : base($"Invalid bencode at byte {offset}: {reason}")
    {
        Reason = reason;
        Offset = offset;
    }

    /// <summary>What is wrong, without the offset.</summary>
    public string Reason { get; }

    /// <summary>Byte offset in the input where the problem was found.</summary>
    public int Offset { get; }
}
