namespace Actors.Web.Http;

/// <summary>
/// Received bytes not yet consumed by a decoder. Remembers how far it has searched for a line end
/// so feeding a line byte by byte costs linear time, and compacts instead of growing when it can.
/// </summary>
internal sealed class InputBuffer
{
    private const int InitialSize = 4096;
    private byte[] _bytes = new byte[InitialSize];
    private int _start;
    private int _end;
    private int _searched; // no LF in [_start, _searched)

    public int Count => _end - _start;

    public ReadOnlySpan<byte> Span => _bytes.AsSpan(_start, _end - _start);

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        if (_end + data.Length > _bytes.Length)
        {
            var count = Count;
            var target = count + data.Length > _bytes.Length
                ? new byte[Math.Max(count + data.Length, _bytes.Length * 2)]
                : _bytes;
            _bytes.AsSpan(_start, count).CopyTo(target);
            _searched -= _start;
            _bytes = target;
            _start = 0;
            _end = count;
        }
        data.CopyTo(_bytes.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>Length of the next line including its LF, or -1 if no LF has arrived yet.</summary>
    public int FindLine()
    {
        var from = Math.Max(_searched, _start);
        var lf = _bytes.AsSpan(from, _end - from).IndexOf((byte)'\n');
        if (lf < 0)
        {
            _searched = _end;
            return -1;
        }
        return from + lf - _start + 1;
    }

    public void Consume(int count)
    {
        _start += count;
        _searched = _start;
        if (_start == _end)
        {
            _start = _end = _searched = 0;
            // A large body or pipelined burst may have grown the array; give it back when idle.
            if (_bytes.Length > InitialSize * 16) _bytes = new byte[InitialSize];
        }
    }

    public void Clear()
    {
        _start = _end = _searched = 0;
        _bytes = [];
    }
}

/// <summary>Accumulates a message body; grows by doubling, never past the size announced up front.</summary>
internal sealed class BodyBuilder
{
    private byte[] _bytes = [];
    private int _length;
    private long _expected = -1;

    public long Length => _length;

    public void Expect(long length) => _expected = length;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_length + data.Length > _bytes.Length)
        {
            long size = Math.Max(Math.Max(_bytes.Length * 2L, 4096), _length + data.Length);
            if (_expected >= _length + data.Length) size = Math.Min(size, _expected);
            Array.Resize(ref _bytes, (int)Math.Min(size, Array.MaxLength));
        }
        data.CopyTo(_bytes.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>
    /// Moves bytes of a Content-Length body (announced with <see cref="Expect"/>) from the input:
    /// false when none were available; <paramref name="complete"/> once all have arrived.
    /// </summary>
    public bool ReadFixed(InputBuffer input, out bool complete)
    {
        var take = (int)Math.Min(_expected - _length, input.Count);
        complete = take == _expected - _length;
        if (take == 0) return complete;
        Append(input.Span[..take]);
        input.Consume(take);
        return true;
    }

    /// <summary>The body, and a reset for the next message.</summary>
    public byte[] Take()
    {
        var body = _bytes.Length == _length ? _bytes : _bytes.AsSpan(0, _length).ToArray();
        _bytes = [];
        _length = 0;
        _expected = -1;
        return body;
    }
}
