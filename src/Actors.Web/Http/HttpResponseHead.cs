using System.Text;

namespace Actors.Web.Http;

/// <summary>Builds "HTTP/1.1 status reason", the header fields and the blank line.</summary>
public sealed class HttpResponseHead
{
    private readonly int _status;
    private readonly string _reason;
    private readonly List<KeyValuePair<string, string>> _fields = [];

    public HttpResponseHead(int status) : this(status, HttpStatus.ReasonPhrase(status)) { }

    public HttpResponseHead(int status, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(status, 100);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(status, 999);
        ArgumentNullException.ThrowIfNull(reason);
        if (!IsFieldText(reason)) throw new ArgumentException("reason phrase contains a control character", nameof(reason));
        _status = status;
        _reason = reason;
    }

    public int Status => _status;

    /// <summary>Adds a field. Rejects names that are not tokens and values with CR, LF or other controls (response splitting).</summary>
    public HttpResponseHead Header(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (name.Length == 0) throw new ArgumentException("empty header name", nameof(name));
        foreach (var c in name)
            if (c > 127 || !HttpSyntax.IsTokenChar((byte)c))
                throw new ArgumentException($"invalid character in header name '{name}'", nameof(name));
        if (!IsFieldText(value)) throw new ArgumentException($"invalid character in value of header '{name}'", nameof(value));
        _fields.Add(new(name, value.Trim(' ', '\t')));
        return this;
    }

    public byte[] Encode()
    {
        var text = new StringBuilder(64 + _fields.Count * 32)
            .Append("HTTP/1.1 ").Append(_status).Append(' ').Append(_reason).Append("\r\n");
        foreach (var (name, value) in _fields) text.Append(name).Append(": ").Append(value).Append("\r\n");
        text.Append("\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    public override string ToString() => Encoding.Latin1.GetString(Encode());

    // Visible ASCII, SP, HTAB and Latin-1 obs-text; anything else could split or corrupt the head.
    private static bool IsFieldText(string s)
    {
        foreach (var c in s)
            if (c > 0xFF || c == 0x7F || (c < 0x20 && c != '\t')) return false;
        return true;
    }
}
