namespace Actors.Torrent.Bencode;

/// <summary>
/// Builds a <see cref="BDictionary"/> in any order:
/// <c>new BDictionaryBuilder().Add("interval", 1800).Add("peers", compact).Build()</c>.
/// Keys are sorted by <see cref="Build"/>; adding a key twice is an error.
/// </summary>
public sealed class BDictionaryBuilder
{
    private readonly Dictionary<BString, BValue> _entries = new();

    public int Count => _entries.Count;

    /// <exception cref="ArgumentException">The key was already added.</exception>
    public BDictionaryBuilder Add(string key, BValue value) => Add(BString.From(key), value);

    public BDictionaryBuilder Add(string key, long value) => Add(key, new BInteger(value));

    public BDictionaryBuilder Add(string key, string text) => Add(key, BString.From(text));

    public BDictionaryBuilder Add(string key, ReadOnlyMemory<byte> bytes) => Add(key, new BString(bytes));

    public BDictionaryBuilder Add(string key, byte[] bytes) => Add(key, new BString(bytes));

    public BDictionaryBuilder Add(string key, BDictionaryBuilder nested) => Add(key, nested.Build());

    public BDictionaryBuilder Add(BString key, BValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_entries.TryAdd(key, value))
        {
            throw new ArgumentException($"Duplicate dictionary key {key}.", nameof(key));
        }
        return this;
    }

    /// <summary>Adds the entry only when <paramref name="value"/> is not null (optional fields).</summary>
    public BDictionaryBuilder AddIfNotNull(string key, BValue? value) => value is null ? this : Add(key, value);

    public BDictionaryBuilder AddIfNotNull(string key, string? text) => text is null ? this : Add(key, text);

    public BDictionaryBuilder AddIfNotNull(string key, long? value) => value is null ? this : Add(key, value.Value);

    public BDictionary Build() => new(_entries);
}
