using System.Text;

namespace Actors.Web.Http;

/// <summary>
/// Incremental HTTP/1.1 request decoder (RFC 9112). Feed it bytes as they arrive and call
/// <see cref="Next"/> until it returns <see cref="DecodeStatus.NeedMore"/>. Parsing happens as data
/// is fed, so limits are enforced before the buffer outgrows them; a completed request waits
/// (with any pipelined bytes behind it) until <see cref="Next"/> takes it. After an error the
/// decoder stays failed and drops further input: the connection must answer and close.
/// </summary>
public sealed class HttpRequestDecoder
{
    private enum State { RequestLine, Headers, FixedBody, Chunked, Complete, Failed }

    private static readonly string[] CommonMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"];

    private readonly HttpLimits _limits;
    private readonly InputBuffer _input = new();
    private readonly BodyBuilder _body = new();
    private readonly FieldSectionReader _fields;
    // Made on first use: most connections never see a chunked body (a connection per request would pay for it every time).
    private ChunkedBodyReader? _chunked;
    private State _state = State.RequestLine;
    private HttpError _error;
    private string _method = "";
    private string _target = "";
    private HttpVersion _version;
    // A fresh one per request, made when its header section starts (not after the last request of a connection).
    private HttpHeaders _headers = null!;

    public HttpRequestDecoder(HttpLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
        _fields = new FieldSectionReader(limits.MaxHeaderBytes, limits.MaxHeaderCount, 400, 431);
    }

    /// <summary>Bytes received but not yet consumed (request bodies are moved out as they are decoded).</summary>
    public int BufferedBytes => _input.Count;

    /// <summary>
    /// True once any byte of the next request has arrived (even if already parsed): the server's
    /// header timeout runs from then, whatever the buffer holds.
    /// </summary>
    public bool RequestStarted => _state != State.RequestLine || _input.Count > 0;

    /// <summary>Gives the input buffer's array back to the pool: call once the connection is over (nothing decodes after).</summary>
    public void Release() => _input.Release();

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_state == State.Failed) return;
        _input.Append(data);
        Advance();
    }

    public DecodeStatus Next(out HttpRequest? request, out HttpError error)
    {
        request = null;
        Advance();
        error = _error;
        if (_state == State.Failed) return DecodeStatus.Error;
        if (_state != State.Complete) return DecodeStatus.NeedMore;

        request = new HttpRequest(_method, _target, _version, _headers, _body.Take());
        _state = State.RequestLine;
        return DecodeStatus.Request;
    }

    private void Advance()
    {
        var progressing = true;
        while (progressing)
        {
            progressing = _state switch
            {
                State.RequestLine => ReadRequestLine(),
                State.Headers => ReadHeaders(),
                State.FixedBody => ReadFixedBody(),
                State.Chunked => ReadChunked(),
                _ => false,
            };
        }
    }

    private bool ReadRequestLine()
    {
        var n = _input.FindLine();
        if (n < 0)
        {
            if (_input.Count >= _limits.MaxRequestLineBytes) return Fail(414, "request line too long");
            if (!CouldStartRequestLine(_input.Span)) return Fail(400, "malformed request line");
            return false;
        }
        var line = HttpSyntax.WithoutLineEnding(_input.Span[..n]);
        if (line.IsEmpty)
        {
            // RFC 9112 §2.2: ignore empty lines before the request line (e.g. a stray CRLF after a body).
            _input.Consume(n);
            return true;
        }
        if (n > _limits.MaxRequestLineBytes) return Fail(414, "request line too long");
        if (!ParseRequestLine(line)) return false;

        _input.Consume(n);
        _headers = new HttpHeaders();
        _fields.Reset(_headers);
        _state = State.Headers;
        return true;
    }

    // Rejects binary junk (a TLS hello, say) as soon as it arrives instead of waiting for 8 KiB.
    // Looks at a bounded prefix only, so byte-by-byte feeding stays linear.
    private static bool CouldStartRequestLine(ReadOnlySpan<byte> partial)
    {
        var prefix = partial[..Math.Min(partial.Length, 32)];
        if (prefix.SequenceEqual("\r"u8)) return true;
        foreach (var b in prefix)
        {
            if (b == ' ') return true;
            if (!HttpSyntax.IsTokenChar(b)) return false;
        }
        return true;
    }

    private bool ParseRequestLine(ReadOnlySpan<byte> line)
    {
        // method SP request-target SP HTTP-version; the target cannot contain SP, so split at the first and last.
        var sp1 = line.IndexOf((byte)' ');
        var sp2 = line.LastIndexOf((byte)' ');
        if (sp1 <= 0 || sp2 <= sp1 + 1) return Fail(400, "malformed request line");
        var method = line[..sp1];
        var target = line[(sp1 + 1)..sp2];
        if (!HttpSyntax.IsToken(method)) return Fail(400, "malformed method");
        if (target.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0) return Fail(400, "malformed request target");

        switch (HttpSyntax.ParseVersion(line[(sp2 + 1)..], out _version))
        {
            case < 0: return Fail(400, "malformed HTTP version");
            case 0: return Fail(505, "HTTP version not supported");
        }

        var isOptions = method.SequenceEqual("OPTIONS"u8);
        var validForm = target[0] == '/'
            || (target.SequenceEqual("*"u8) ? isOptions : IsAbsoluteHttpUri(target));
        if (!validForm) return Fail(400, "malformed request target");

        _method = MethodName(method);
        _target = Encoding.ASCII.GetString(target);
        return true;
    }

    private static bool IsAbsoluteHttpUri(ReadOnlySpan<byte> target) =>
        (target.Length > 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8))
        || (target.Length > 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8));

    private static string MethodName(ReadOnlySpan<byte> method)
    {
        foreach (var known in CommonMethods)
            if (Ascii.Equals(method, known)) return known;
        return Encoding.ASCII.GetString(method);
    }

    private bool ReadHeaders()
    {
        switch (_fields.Read(_input, out var error))
        {
            case ReadResult.NeedMore: return false;
            case ReadResult.Error: return Fail(error.Status, error.Reason);
        }

        if (_fields.HostCount > 1 || (_fields.HostCount == 0 && _version == HttpVersion.Http11))
            return Fail(400, "exactly one Host header is required");

        if (_fields.HasTransferEncoding)
        {
            // Both framings at once is the classic request-smuggling vector (RFC 9112 §6.1).
            if (_fields.ContentLength >= 0) return Fail(400, "both Content-Length and Transfer-Encoding");
            if (_version == HttpVersion.Http10) return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
            if (_fields.ChunkedCount > 1 || (_fields.ChunkedCount == 1 && !_fields.ChunkedIsLast))
                return Fail(400, "chunked must be the final transfer coding");
            if (_fields.HasUnknownCoding) return Fail(501, "transfer coding not implemented");
            if (_fields.ChunkedCount == 0) return Fail(400, "empty Transfer-Encoding");
            _chunked ??= new ChunkedBodyReader(_limits.MaxBodyBytes, _limits.MaxHeaderBytes, _limits.MaxHeaderCount, 400, 413);
            _chunked.Reset();
            _state = State.Chunked;
            return true;
        }

        if (_fields.ContentLength > _limits.MaxBodyBytes) return Fail(413, "body too large");
        if (_fields.ContentLength > 0)
        {
            _body.Expect(_fields.ContentLength);
            _state = State.FixedBody;
        }
        else _state = State.Complete;
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
        switch (_chunked!.Read(_input, _body, out var error))
        {
            case ReadResult.NeedMore: return false;
            case ReadResult.Error: return Fail(error.Status, error.Reason);
            default:
                _state = State.Complete;
                return true;
        }
    }

    private bool Fail(int status, string reason)
    {
        _error = new HttpError(status, reason);
        _state = State.Failed;
        _input.Clear();
        _body.Take();
        return false;
    }
}
