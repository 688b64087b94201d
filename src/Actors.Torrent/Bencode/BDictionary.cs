using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Actors.Torrent.Bencode;

/// <summary>
/// A bencoded dictionary, <c>d...e</c>: byte-string keys, unique, kept in bytewise order (the
/// canonical order BEP 3 requires), so encoding it is always canonical.
/// </summary>
/// <remarks>
/// A dictionary produced by <see cref="BencodeDecoder"/> also remembers where each value's
/// encoding sat in the decoded input (<see cref="TryGetSourceRange"/>). That is how the
/// info-hash is taken over the raw <c>info</c> bytes exactly as they appeared in the file.
/// Source ranges do not take part in equality.
/// </remarks>
public sealed record BDictionary : BValue
{
    private readonly KeyValuePair<BString, BValue>[] _entries;
    private readonly Range[]? _sources;

    public static BDictionary Empty { get; } = new(Array.Empty<KeyValuePair<BString, BValue>>());

    /// <summary>Builds a dictionary from entries in any order; duplicate keys are an error.</summary>
    /// <exception cref="ArgumentException">Two entries have the same key.</exception>
    public BDictionary(IEnumerable<KeyValuePair<BString, BValue>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sorted = entries.ToArray();
        Array.Sort(sorted, static (a, b) => a.Key.CompareTo(b.Key));
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i - 1].Key.Equals(sorted[i].Key))
            {
                throw new ArgumentException($"Duplicate dictionary key {sorted[i].Key}.", nameof(entries));
            }
        }
        _entries = sorted;
    }

    /// <summary>Used by the decoder, which has already checked order and uniqueness.</summary>
    internal BDictionary(KeyValuePair<BString, BValue>[] sortedEntries, Range[] sources)
    {
        _entries = sortedEntries;
        _sources = sources;
    }

    /// <summary>The entries in bytewise key order.</summary>
    public IReadOnlyList<KeyValuePair<BString, BValue>> Entries => _entries;

    public IEnumerable<BString> Keys => _entries.Select(static e => e.Key);

    public int Count => _entries.Length;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGet(string key, [NotNullWhen(true)] out BValue? value) =>
        TryGetAt(IndexOf(key), out value);

    public bool TryGet(ReadOnlySpan<byte> key, [NotNullWhen(true)] out BValue? value) =>
        TryGetAt(IndexOf(key), out value);

    /// <summary>The value under <paramref name="key"/> if present and of type <typeparamref name="T"/>.</summary>
    public bool TryGet<T>(string key, [NotNullWhen(true)] out T? value) where T : BValue
    {
        value = TryGet(key, out var found) ? found as T : null;
        return value is not null;
    }

    /// <summary>The value under <paramref name="key"/>, or null when absent or of another type.</summary>
    public T? Get<T>(string key) where T : BValue => TryGet<T>(key, out var value) ? value : null;

    /// <summary>The value under <paramref name="key"/>, or null when absent.</summary>
    public BValue? this[string key] => TryGet(key, out var value) ? value : null;

    /// <summary>The integer under <paramref name="key"/>, or null when absent or not an integer.</summary>
    public long? GetInteger(string key) => Get<BInteger>(key)?.Value;

    /// <summary>The byte string under <paramref name="key"/> as UTF-8 text, or null when absent or not a string.</summary>
    public string? GetText(string key) => Get<BString>(key)?.Text;

    public BDictionary? GetDictionary(string key) => Get<BDictionary>(key);

    public BList? GetList(string key) => Get<BList>(key);

    /// <summary>
    /// Where the encoding of the value under <paramref name="key"/> sat in the input this
    /// dictionary was decoded from (offsets into that whole input). False when the key is absent
    /// or the dictionary was built in code rather than decoded.
    /// </summary>
    public bool TryGetSourceRange(string key, out Range range)
    {
        var index = IndexOf(key);
        if (index < 0 || _sources is null)
        {
            range = default;
            return false;
        }
        range = _sources[index];
        return true;
    }

    public bool Equals(BDictionary? other)
    {
        if (other is null || other._entries.Length != _entries.Length)
        {
            return false;
        }
        for (var i = 0; i < _entries.Length; i++)
        {
            if (!_entries[i].Key.Equals(other._entries[i].Key) || !_entries[i].Value.Equals(other._entries[i].Value))
            {
                return false;
            }
        }
        return true;
    }

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (key, value) in _entries)
        {
            hash.Add(key);
            hash.Add(value);
        }
        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"{{{string.Join(", ", _entries.Select(static e => $"{e.Key}: {e.Value}"))}}}";

    private bool TryGetAt(int index, [NotNullWhen(true)] out BValue? value)
    {
        value = index >= 0 ? _entries[index].Value : null;
        return value is not null;
    }

    private int IndexOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (max > 256)
        {
            return IndexOf(Encoding.UTF8.GetBytes(key));
        }
        Span<byte> buffer = stackalloc byte[max];
        var written = Encoding.UTF8.GetBytes(key, buffer);
        return IndexOf(buffer[..written]);
    }

    private int IndexOf(ReadOnlySpan<byte> key)
    {
        int low = 0, high = _entries.Length - 1;
        while (low <= high)
        {
            var mid = low + ((high - low) >> 1);
            var order = _entries[mid].Key.Bytes.Span.SequenceCompareTo(key);
            if (order == 0)
            {
                return mid;
            }
            if (order < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return -1;
    }
}
