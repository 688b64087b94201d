using System.Text;

namespace Actors.Web.Http;

/// <summary>
/// Incremental HTTP/1.x response decoder for our client. Bodies are framed by Content-Length,
/// chunked coding or the end of the connection (<see cref="Complete"/>). 1xx interim responses
/// are skipped. Errors use 502 for malformed or truncated responses, 505 for an unsupported
/// version, 431 for an oversized head and 413 for an oversized body.
/// </summary>
public sealed class HttpResponseDecoder
{
    private enum State { StatusLine, Headers, FixedBody, Chunked, UntilClose, Complete, Failed }

    private const int Bad = 502;

    private readonly long _maxBody;
    private readonly int _maxHeaderBytes;
    private readonly InputBuffer _input = new();
    private readonly BodyBuilder _body = new();
    private readonly FieldSectionReader _fields;
    private readonly ChunkedBodyReader _chunked;
    private State _state = State.StatusLine;
    private HttpError _error;
    private bool _expectNoBody;
    private int _status;
    private string _reason = "";
    private HttpVersion _version;
    private HttpHeaders _headers = new();

    public HttpResponseDecoder(long maxBodyBytes = 16 * 1024 * 1024, int maxHeaderBytes = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBodyBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxHeaderBytes);
        _maxBody = maxBodyBytes;
        _maxHeaderBytes = maxHeaderBytes;
        _fields = new FieldSectionReader(maxHeaderBytes, int.MaxValue, Bad, 431);
        _chunked = new ChunkedBodyReader(maxBodyBytes, maxHeaderBytes, int.MaxValue, Bad, 413);
    }

    public int BufferedBytes => _input.Count;

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_state == State.Failed) return;
        _input.Append(data);
        Advance();
    }

    /// <summary>The next response answers a HEAD request: it has headers but no body, whatever they say.</summary>
    public void ExpectNoBody() => _expectNoBody = true;

    public DecodeStatus Next(out HttpResponse? response, out HttpError error)
    {
        response = null;
        Advance();
        error = _error;
        if (_state == State.Failed) return DecodeStatus.Error;
        if (_state != State.Complete) return DecodeStatus.NeedMore;
        response = TakeResponse(keepAlive: true);
        return DecodeStatus.Response;
    }

    /// <summary>
    /// The peer closed the connection. Returns a response that was complete or delimited by the close;
    /// otherwise the response was truncated (or never started) and this is an error.
    /// </summary>
    public DecodeStatus Complete(out HttpResponse? response, out HttpError error)
    {
        var status = Next(out response, out error);
        if (status != DecodeStatus.NeedMore) return status;
        if (_state == State.UntilClose)
        {
            response = TakeResponse(keepAlive: false);
            Fail("connection closed"); // nothing can follow a close-delimited body
            return DecodeStatus.Response;
        }
        var started = _state != State.StatusLine || _input.Count > 0;
        Fail(started ? "response truncated by connection close" : "connection closed before a response");
        error = _error;
        return DecodeStatus.Error;
    }

    private HttpResponse TakeResponse(bool keepAlive)
    {
        var response = new HttpResponse(_status, _reason, _version, _headers, _body.Take());
        if (!keepAlive) response = response with { KeepAlive = false };
        _headers = new HttpHeaders();
        _state = State.StatusLine;
        return response;
    }

    private void Advance()
    {
        var progressing = true;
        while (progressing)
        {
            progressing = _state switch
            {
                State.StatusLine => ReadStatusLine(),
                State.Headers => ReadHeaders(),
                State.FixedBody => ReadFixedBody(),
                State.Chunked => ReadChunked(),
                State.UntilClose => ReadUntilClose(),
                _ => false,
            };
        }
    }

    private bool ReadStatusLine()
    {
        var n = _input.FindLine();
        if (n < 0)
        {
            if (_input.Count + 1 > _maxHeaderBytes) return Fail("response head too large", 431);
            return false;
        }
        if (n > _maxHeaderBytes) return Fail("response head too large", 431);
        var line = HttpSyntax.WithoutLineEnding(_input.Span[..n]);
        if (line.IsEmpty)
        {
            _input.Consume(n); // tolerate stray blank lines, as for requests
            return true;
        }

        // HTTP-version SP 3DIGIT SP [reason-phrase]; a missing final SP is tolerated.
        if (line.Length < 12 || line[8] != ' ' || (line.Length > 12 && line[12] != ' ')
            || line[9..12].IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            return Fail("malformed status line");
        switch (HttpSyntax.ParseVersion(line[..8], out _version))
        {
            case < 0: return Fail("malformed status line");
            case 0: return Fail("HTTP version not supported", 505);
        }
        var reason = line.Length > 13 ? line[13..] : default;
        if (HttpSyntax.HasForbiddenFieldByte(reason)) return Fail("malformed reason phrase");

        _status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        if (_status < 100) return Fail("malformed status code");
        _reason = reason.IsEmpty ? "" : Encoding.Latin1.GetString(reason);
        _input.Consume(n);
        _fields.Reset(_headers, n);
        _state = State.Headers;
        return true;
    }

    private bool ReadHeaders()
    {
        switch (_fields.Read(_input, out var error))
        {
            case ReadResult.NeedMore: return false;
            case ReadResult.Error: return Fail(error.Reason, error.Status);
        }

        if (_status is >= 100 and < 200 and not 101)
        {
            // Interim response (100 Continue, 103 Early Hints): the real one follows.
            _headers = new HttpHeaders();
            _state = State.StatusLine;
            return true;
        }

        // RFC 9112 §6.3, in order.
        var noBody = _expectNoBody || _status is 101 or 204 or 304;
        _expectNoBody = false;
        if (noBody)
            _state = State.Complete;
        else if (_fields.HasTransferEncoding)
        {
            if (_fields.ChunkedIsLast && _fields.ChunkedCount == 1)
            {
                _chunked.Reset();
                _state = State.Chunked;
            }
            else _state = State.UntilClose;
        }
        else if (_fields.ContentLength > _maxBody) return Fail("body too large", 413);
        else if (_fields.ContentLength > 0)
        {
            _body.Expect(_fields.ContentLength);
            _state = State.FixedBody;
        }
        else _state = _fields.ContentLength == 0 ? State.Complete : State.UntilClose;
        return true;
    }

    private bool ReadFixedBody()
    {
        var progressed = _body.ReadFixed(_input, out var complete);
        if (complete) _state = State.Complete;
        return progressed;
    }

    private bool ReadChunked()
    {
        switch (_chunked.Read(_input, _body, out var error))
        {
            case ReadResult.NeedMore: return false;
            case ReadResult.Error: return Fail(error.Reason, error.Status);
            default:
                _state = State.Complete;
                return true;
        }
    }

    private bool ReadUntilClose()
    {
        if (_input.Count == 0) return false;
        if (_input.Count > _maxBody - _body.Length) return Fail("body too large", 413);
        _body.Append(_input.Span);
        _input.Consume(_input.Count);
        return false;
    }

    private bool Fail(string reason, int status = Bad)
    {
        _error = new HttpError(status, reason);
        _state = State.Failed;
        _input.Clear();
        _body.Take();
        return false;
    }
}
