using System.Buffers.Binary;

namespace Actors.Calls.Protocol;

public enum DecodeStatus { NeedMore, Message, Error }

/// <summary>
/// Incremental frame decoder: feed bytes as they arrive (split anywhere), then call
/// <see cref="Next"/> until it asks for more. It holds at most one partial frame plus the last
/// chunk fed, and refuses a length above the limit before buffering the body. After an error it
/// stays failed: the connection is to be closed.
/// </summary>
public sealed class FrameDecoder(int maxFrame = FrameCodec.DefaultMaxFrame)
{
    private byte[] _buffer = new byte[4096];
    private int _start, _end;
    private string? _error;

    public int MaxFrame { get; } = maxFrame;
    public int Buffered => _end - _start;

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_error is not null || data.IsEmpty) return;
        if (_start == _end) _start = _end = 0;
        if (_buffer.Length - _end < data.Length)
        {
            // Compact, then grow if still short.
            var buffered = _end - _start;
            var needed = buffered + data.Length;
            var target = _buffer.Length >= needed ? _buffer : new byte[Math.Max(needed, _buffer.Length * 2)];
            Buffer.BlockCopy(_buffer, _start, target, 0, buffered);
            _buffer = target;
            _start = 0;
            _end = buffered;
        }
        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    public DecodeStatus Next(out CallMessage? message, out string? error)
    {
        message = null;
        error = _error;
        if (_error is not null) return DecodeStatus.Error;
        var available = _end - _start;
        if (available < FrameCodec.HeaderSize) return DecodeStatus.NeedMore;
        var length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start, 4));
        if (length == 0 || length > MaxFrame)
            return Fail(length == 0 ? "empty frame" : $"frame of {length} bytes exceeds the {MaxFrame}-byte limit", out error);
        if (available < FrameCodec.HeaderSize + length) return DecodeStatus.NeedMore;
        try
        {
            message = FrameCodec.DecodeBody(_buffer.AsSpan(_start + FrameCodec.HeaderSize, (int)length));
        }
        catch (FrameFormatException ex)
        {
            return Fail(ex.Message, out error);
        }
        _start += FrameCodec.HeaderSize + (int)length;
        if (_start == _end) ShrinkIfLarge();
        return DecodeStatus.Message;
    }

    /// <summary>Bytes fed but not yet decoded (a relay forwards them raw once it stops decoding).</summary>
    public byte[] TakeRemaining()
    {
        var rest = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end = 0;
        return rest;
    }

    private DecodeStatus Fail(string reason, out string? error)
    {
        _error = error = reason;
        _buffer = [];
        _start = _end = 0;
        return DecodeStatus.Error;
    }

    private void ShrinkIfLarge()
    {
        _start = _end = 0;
        if (_buffer.Length > 256 * 1024) _buffer = new byte[4096];
    }
}
