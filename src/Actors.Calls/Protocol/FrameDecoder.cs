using Actors.Net.Framing;

namespace Actors.Calls.Protocol;

public enum DecodeStatus { NeedMore, Message, Error }

/// <summary>
/// Incremental call-frame decoder: feed bytes as they arrive (split anywhere), then call
/// <see cref="Next"/> until it asks for more. The length prefix is Actors.Net's
/// <see cref="LengthPrefixedFramer"/> (a length above the limit is refused before the body is
/// buffered); this class adds the call rules (no empty frames) and decodes each body. After an
/// error it stays failed: the connection is to be closed.
/// </summary>
public sealed class FrameDecoder(int maxFrame = FrameCodec.DefaultMaxFrame)
{
    private readonly LengthPrefixedFramer _framer = new(maxFrame);
    private string? _error;

    public int MaxFrame => _framer.MaxFrameBytes;
    public int Buffered => _framer.BufferedBytes;

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_error is not null || data.IsEmpty) return;
        try { _framer.Feed(data); }
        catch (FramingException ex) { Fail(ex.Message, out _); }
    }

    public DecodeStatus Next(out CallMessage? message, out string? error)
    {
        message = null;
        error = _error;
        if (_error is not null) return DecodeStatus.Error;
        ReadOnlyMemory<byte> body;
        try
        {
            if (!_framer.TryRead(out body)) return DecodeStatus.NeedMore;
        }
        catch (FramingException ex)
        {
            return Fail(ex.Message, out error);
        }
        if (body.IsEmpty) return Fail("empty frame", out error);
        try
        {
            message = FrameCodec.DecodeBody(body.Span);
        }
        catch (FrameFormatException ex)
        {
            return Fail(ex.Message, out error);
        }
        return DecodeStatus.Message;
    }

    /// <summary>Bytes fed but not yet decoded (a relay forwards them raw once it stops decoding).</summary>
    public byte[] TakeRemaining() => _framer.TakeBuffered();

    private DecodeStatus Fail(string reason, out string? error)
    {
        _error = error = reason;
        _framer.TakeBuffered(); // nothing more will be read from a failed stream
        return DecodeStatus.Error;
    }
}
