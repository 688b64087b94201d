namespace Actors.Web.Http;

/// <summary>
/// Decodes a chunked body (RFC 9112 §7.1) straight into a <see cref="BodyBuilder"/>, consuming its
/// input as it goes, so only a chunk-size line or a trailer line is ever held in the input buffer.
/// </summary>
internal sealed class ChunkedBodyReader
{
    // A chunk-size line is a few hex digits; extensions (ignored) get a generous but fixed allowance.
    private const int MaxChunkLineBytes = 4096;

    private enum Part { SizeLine, Data, DataEnd, Trailers }

    private readonly long _maxBody;
    private readonly int _badStatus;
    private readonly int _tooLargeStatus;
    private readonly FieldSectionReader _trailers;
    private Part _part;
    private long _remaining;

    public ChunkedBodyReader(long maxBody, int maxTrailerBytes, int maxTrailerCount, int badStatus, int tooLargeStatus)
    {
        _maxBody = maxBody;
        _badStatus = badStatus;
        _tooLargeStatus = tooLargeStatus;
        _trailers = new FieldSectionReader(maxTrailerBytes, maxTrailerCount, badStatus, tooLargeStatus);
    }

    public void Reset()
    {
        _part = Part.SizeLine;
        _remaining = 0;
    }

    public ReadResult Read(InputBuffer input, BodyBuilder body, out HttpError error)
    {
        error = default;
        while (true)
        {
            switch (_part)
            {
                case Part.SizeLine:
                {
                    var n = input.FindLine();
                    if (n < 0)
                        return input.Count >= MaxChunkLineBytes ? Fail(out error, _badStatus, "chunk-size line too long") : ReadResult.NeedMore;
                    if (n > MaxChunkLineBytes) return Fail(out error, _badStatus, "chunk-size line too long");
                    var result = ParseSize(HttpSyntax.WithoutLineEnding(input.Span[..n]), body.Length, out error);
                    if (result != ReadResult.Done) return result;
                    input.Consume(n);
                    if (_remaining == 0)
                    {
                        _trailers.Reset(null);
                        _part = Part.Trailers;
                    }
                    else _part = Part.Data;
                    break;
                }
                case Part.Data:
                {
                    var take = (int)Math.Min(_remaining, input.Count);
                    if (take == 0) return ReadResult.NeedMore;
                    body.Append(input.Span[..take]);
                    input.Consume(take);
                    _remaining -= take;
                    if (_remaining == 0) _part = Part.DataEnd;
                    break;
                }
                case Part.DataEnd:
                {
                    var span = input.Span;
                    if (span.IsEmpty) return ReadResult.NeedMore;
                    if (span[0] == '\n') input.Consume(1);
                    else if (span[0] != '\r') return Fail(out error, _badStatus, "chunk data not followed by CRLF");
                    else if (span.Length < 2) return ReadResult.NeedMore;
                    else if (span[1] == '\n') input.Consume(2);
                    else return Fail(out error, _badStatus, "chunk data not followed by CRLF");
                    _part = Part.SizeLine;
                    break;
                }
                case Part.Trailers:
                    return _trailers.Read(input, out error);
            }
        }
    }

    private ReadResult ParseSize(ReadOnlySpan<byte> line, long bodySoFar, out HttpError error)
    {
        error = default;
        var digits = line.IndexOfAnyExcept("0123456789abcdefABCDEF"u8);
        if (digits < 0) digits = line.Length;
        if (digits == 0) return Fail(out error, _badStatus, "invalid chunk size");

        // Only BWS and chunk extensions (which we ignore) may follow the size.
        var rest = line[digits..].TrimStart(" \t"u8);
        if (!rest.IsEmpty && (rest[0] != ';' || HttpSyntax.HasForbiddenFieldByte(rest)))
            return Fail(out error, _badStatus, "invalid chunk size");

        var hex = line[..digits].TrimStart((byte)'0');
        if (hex.Length > 15) return Fail(out error, _tooLargeStatus, "body too large");
        long size = 0;
        foreach (var b in hex) size = size * 16 + HexValue(b);
        if (size > _maxBody - bodySoFar) return Fail(out error, _tooLargeStatus, "body too large");
        _remaining = size;
        return ReadResult.Done;
    }

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;

    private static ReadResult Fail(out HttpError error, int status, string reason)
    {
        error = new HttpError(status, reason);
        return ReadResult.Error;
    }
}
