using System.Text;

namespace Actors.Web.Http;

internal enum ReadResult { NeedMore, Done, Error }

/// <summary>
/// Reads header (or trailer) field lines up to the blank line, one line at a time so errors and
/// limits are caught as soon as the offending line arrives. Also notes the framing fields.
/// </summary>
internal sealed class FieldSectionReader(int maxBytes, int maxCount, int badStatus, int tooLargeStatus)
{
    private HttpHeaders? _headers;
    private int _bytes;
    private int _count;

    public long ContentLength { get; private set; }
    public bool HasTransferEncoding { get; private set; }
    public int ChunkedCount { get; private set; }
    public bool ChunkedIsLast { get; private set; }
    public bool HasUnknownCoding { get; private set; }
    public int HostCount { get; private set; }

    /// <summary>Start a section; <paramref name="target"/> null discards the fields (trailers).</summary>
    public void Reset(HttpHeaders? target, int bytesAlreadyUsed = 0)
    {
        _headers = target;
        _bytes = bytesAlreadyUsed;
        _count = 0;
        ContentLength = -1;
        HasTransferEncoding = false;
        ChunkedCount = 0;
        ChunkedIsLast = false;
        HasUnknownCoding = false;
        HostCount = 0;
    }

    public ReadResult Read(InputBuffer input, out HttpError error)
    {
        error = default;
        while (true)
        {
            var n = input.FindLine();
            if (n < 0)
            {
                // Whatever the partial line turns out to be, it needs at least one more byte (LF).
                if (_bytes + input.Count + 1 > maxBytes) return Fail(out error, tooLargeStatus, "header section too large");
                if (input.Count > 0 && HttpSyntax.IsWhitespace(input.Span[0])) return Fail(out error, badStatus, "obsolete line folding");
                return ReadResult.NeedMore;
            }
            _bytes += n;
            if (_bytes > maxBytes) return Fail(out error, tooLargeStatus, "header section too large");

            var line = HttpSyntax.WithoutLineEnding(input.Span[..n]);
            if (line.IsEmpty)
            {
                input.Consume(n);
                return ReadResult.Done;
            }
            if (HttpSyntax.IsWhitespace(line[0])) return Fail(out error, badStatus, "obsolete line folding");
            if (++_count > maxCount) return Fail(out error, tooLargeStatus, "too many header fields");
            if (!HttpSyntax.TrySplitField(line, out var name, out var value)) return Fail(out error, badStatus, "malformed header field");
            if (!NoteFraming(name, value, out error)) return ReadResult.Error;

            _headers?.Add(HttpSyntax.FieldName(name), HttpSyntax.FieldValue(value));
            input.Consume(n);
        }
    }

    private bool NoteFraming(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, out HttpError error)
    {
        error = default;
        if (_headers is null) return true; // trailers never affect framing
        if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            // "5, 5" and repeated equal fields are one length (RFC 9110 §8.6); anything else is fatal.
            foreach (var range in value.Split((byte)','))
            {
                if (!HttpSyntax.TryParseDecimal(HttpSyntax.TrimWhitespace(value[range]), out var length)
                    || (ContentLength >= 0 && ContentLength != length))
                {
                    Fail(out error, badStatus, "invalid Content-Length");
                    return false;
                }
                ContentLength = length;
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            HasTransferEncoding = true;
            foreach (var range in value.Split((byte)','))
            {
                var coding = value[range];
                var semicolon = coding.IndexOf((byte)';');
                coding = HttpSyntax.TrimWhitespace(semicolon < 0 ? coding : coding[..semicolon]);
                if (coding.IsEmpty) continue;
                ChunkedIsLast = Ascii.EqualsIgnoreCase(coding, "chunked"u8);
                if (ChunkedIsLast) ChunkedCount++;
                else HasUnknownCoding = true;
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "Host"u8))
        {
            HostCount++;
        }
        return true;
    }

    private static ReadResult Fail(out HttpError error, int status, string reason)
    {
        error = new HttpError(status, reason);
        return ReadResult.Error;
    }
}
