using System.Text;
using System.Text.Unicode;

namespace Actors.Torrent.Bencode;

/// <summary>
/// A bencoded value (BEP 3): an integer, a byte string, a list or a dictionary.
/// Values are immutable and compare structurally (byte strings bytewise).
/// </summary>
public abstract record BValue;

/// <summary>A bencoded integer, <c>i42e</c>.</summary>
public sealed record BInteger(long Value) : BValue
{
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// A bencoded byte string, <c>4:spam</c>. Byte strings are not necessarily text (piece hashes,
/// compact peer lists), so the bytes are the value and <see cref="Text"/> is a helper.
/// </summary>
public sealed record BString(ReadOnlyMemory<byte> Bytes) : BValue, IComparable<BString>
{
    public static BString Empty { get; } = new(ReadOnlyMemory<byte>.Empty);

    /// <summary>The bytes decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Bytes.Span);

    public int Length => Bytes.Length;

    public static BString From(string text) => new(Encoding.UTF8.GetBytes(text));

    public static BString From(ReadOnlySpan<byte> bytes) => new(bytes.ToArray());

    /// <summary>Bytewise (unsigned, lexicographic) order: the order of dictionary keys.</summary>
    public int CompareTo(BString? other) =>
        other is null ? 1 : Bytes.Span.SequenceCompareTo(other.Bytes.Span);

    public bool Equals(BString? other) =>
        other is not null && Bytes.Span.SequenceEqual(other.Bytes.Span);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes.Span);
        return hash.ToHashCode();
    }

    /// <summary>Text when the bytes are printable UTF-8, otherwise hex; for diagnostics.</summary>
    public override string ToString()
    {
        var span = Bytes.Span;
        if (Utf8.IsValid(span) && !span.ContainsAnyInRange((byte)0, (byte)0x1F))
        {
            return $"\"{Text}\"";
        }
        return $"0x{Convert.ToHexStringLower(span)}";
    }
}

/// <summary>A bencoded list, <c>l...e</c>.</summary>
public sealed record BList(IReadOnlyList<BValue> Items) : BValue
{
    public static BList Empty { get; } = new(Array.Empty<BValue>());

    public int Count => Items.Count;

    public BValue this[int index] => Items[index];

    public bool Equals(BList? other) =>
        other is not null && Items.SequenceEqual(other.Items);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in Items)
        {
            hash.Add(item);
        }
        return hash.ToHashCode();
    }

    public override string ToString() => $"[{string.Join(", ", Items)}]";
}
