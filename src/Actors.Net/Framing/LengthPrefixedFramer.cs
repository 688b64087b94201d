using System.Buffers.Binary;

namespace Actors.Net.Framing;

/// <summary>A frame longer than the protocol allows, or a malformed prefix: the connection must close.</summary>
public sealed class FramingException(string message) : Exception(message);

/// <summary>
/// Incremental decoder for frames that start with a 4-byte big-endian length (the BitTorrent
/// peer wire and our call protocol both use this shape). Bytes arrive in arbitrary pieces;
/// complete frames come out in order. The length is checked against <see cref="MaxFrameBytes"/>
/// before anything is buffered for it, so a hostile prefix can never make us allocate.
/// Pure: no actors, no I/O.
/// </summary>
public sealed class LengthPrefixedFramer(int maxFrameBytes)
{
    private const int PrefixBytes = 4;
    private byte[] _buffer = new byte[Math.Min(4096, maxFrameBytes + PrefixBytes)];
    private int _start, _end;

    public int MaxFrameBytes { get; } = maxFrameBytes;

    /// <summary>Bytes held for frames not yet complete; never more than one maximal frame plus one piece.</summary>
    public int BufferedBytes => _end - _start;

    /// <summary>Adds received bytes. Call <see cref="TryRead"/> until it returns false afterwards.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_buffer.Length - _end < data.Length)
        {
            var needed = _end - _start + data.Length;
            if (needed <= _buffer.Length)
            {
                // Compact: consumed frames leave room at the front.
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            }
            else
            {
                var grown = new byte[Math.Max(needed, _buffer.Length * 2)];
                _buffer.AsSpan(_start, _end - _start).CopyTo(grown);
                _buffer = grown;
            }
            _end -= _start;
            _start = 0;
        }
        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
        // Fail fast on an oversized prefix rather than waiting for its body.
        if (_end - _start >= PrefixBytes) PeekLength();
    }

    /// <summary>
    /// The next complete frame's payload (without its prefix), valid until the next call to
    /// <see cref="Feed"/>; a zero-length frame (e.g. a BitTorrent keep-alive) is returned as empty.
    /// </summary>
    public bool TryRead(out ReadOnlyMemory<byte> frame)
    {
        frame = default;
        if (_end - _start < PrefixBytes) return false;
        var length = PeekLength();
        if (_end - _start < PrefixBytes + length) return false;
        frame = new ReadOnlyMemory<byte>(_buffer, _start + PrefixBytes, length);
        _start += PrefixBytes + length;
        if (_start == _end) _start = _end = 0;
        return true;
    }

    /// <summary>
    /// Hands over the bytes not yet framed and starts empty: for a connection that stops framing
    /// (a relay pipes raw bytes once a session is paired). Also releases a buffer grown for a
    /// large frame.
    /// </summary>
    public byte[] TakeBuffered()
    {
        var rest = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end = 0;
        if (_buffer.Length > 64 * 1024) _buffer = new byte[4096];
        return rest;
    }

    private int PeekLength()
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(_buffer.AsSpan(_start, PrefixBytes));
        if (length > (uint)MaxFrameBytes)
            throw new FramingException($"frame of {length} bytes exceeds the limit of {MaxFrameBytes}");
        return (int)length;
    }

    /// <summary>Writes the 4-byte prefix and the payload into a new array, ready to send.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload)
    {
        var frame = new byte[PrefixBytes + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame.AsSpan(PrefixBytes));
        return frame;
    }
}
