using System.Collections;

namespace Actors.Web.Http;

/// <summary>Header fields in arrival order; names compare case-insensitively and may repeat.</summary>
public sealed class HttpHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _fields = [];

    public int Count => _fields.Count;

    public void Add(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        _fields.Add(new(name, value));
    }

    /// <summary>
    /// The field's value, or null. Repeated fields are combined with ", " as RFC 9110 §5.3 allows
    /// for list-valued fields; use <see cref="GetAll"/> for fields that must not be combined (Set-Cookie).
    /// </summary>
    public string? Get(string name)
    {
        string? first = null;
        for (var i = 0; i < _fields.Count; i++)
        {
            if (!Matches(i, name)) continue;
            if (first is not null) return string.Join(", ", GetAll(name));
            first = _fields[i].Value;
        }
        return first;
    }

    public IReadOnlyList<string> GetAll(string name)
    {
        List<string>? values = null;
        for (var i = 0; i < _fields.Count; i++)
            if (Matches(i, name)) (values ??= []).Add(_fields[i].Value);
        return values ?? (IReadOnlyList<string>)Array.Empty<string>();
    }

    public bool Contains(string name)
    {
        for (var i = 0; i < _fields.Count; i++)
            if (Matches(i, name)) return true;
        return false;
    }

    /// <summary>True if a comma-separated list field (Connection, ...) holds <paramref name="token"/>.</summary>
    public bool HasToken(string name, string token)
    {
        for (var i = 0; i < _fields.Count; i++)
        {
            if (!Matches(i, name)) continue;
            foreach (var range in _fields[i].Value.AsSpan().Split(','))
                if (_fields[i].Value.AsSpan()[range].Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
                    return true;
        }
        return false;
    }

    public List<KeyValuePair<string, string>>.Enumerator GetEnumerator() => _fields.GetEnumerator();

    IEnumerator<KeyValuePair<string, string>> IEnumerable<KeyValuePair<string, string>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private bool Matches(int i, string name) => string.Equals(_fields[i].Key, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Keep-alive rules of RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".</summary>
    internal bool KeepAlive(HttpVersion version) =>
        !HasToken("Connection", "close") && (version == HttpVersion.Http11 || HasToken("Connection", "keep-alive"));
}
