using System.Buffers;

namespace Actors.Web.Http;

/// <summary>
/// Received bytes not yet consumed by a decoder. Remembers how far it has searched for a line end
/// so feeding a line byte by byte costs linear time, and compacts instead of growing when it can.
/// <para>
/// Its array is rented from <see cref="ArrayPool{T}.Shared"/> at the first bytes and given back by
/// <see cref="Release"/> (the connection's end): with a connection per request (every tracker
/// announce) a 4 KiB array per connection was ~8% of the bytes allocated per announce
/// (src/Actors.Net/README.md, "What a connection allocates"). Arrays dropped while spans may still
/// point into them (a large one shrunk after use, one outgrown) are not returned, only collected.
/// </para>
/// </summary>
internal sealed class InputBuffer
{
    private const int InitialSize = 4096;
    private byte[] _bytes = [];
    // _bytes came from the pool and goes back to it on Release.
    private bool _rented;
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
            var target = _bytes;
            if (count + data.Length > _bytes.Length)
            {
                // A first array from the pool; a bigger one (a large body, a pipelined burst) is
                // allocated: it is rare, and the pool keeps arrays only up to 1 MiB anyway.
                if (_bytes.Length == 0 && data.Length <= InitialSize)
                {
                    target = ArrayPool<byte>.Shared.Rent(InitialSize);
                    _rented = true;
                }
                else
                {
                    target = new byte[Math.Max(Math.Max(count + data.Length, _bytes.Length * 2), InitialSize)];
                    // The outgrown array is not returned: nothing may point into it now, but a
                    // caller's span from before this Append could.
                    _rented = false;
                }
            }
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
            // A large body or pipelined burst may have grown the array; drop it when idle (the
            // next bytes rent a small one).
            if (_bytes.Length > InitialSize * 16)
            {
                _bytes = [];
                _rented = false;
            }
        }
    }

    public void Clear()
    {
        _start = _end = _searched = 0;
        _bytes = [];
        _rented = false;
    }

    /// <summary>
    /// Empties the buffer and gives its array back to the pool. Only when nothing will read a span
    /// of it again: the connection is over.
    /// </summary>
    public void Release()
    {
        var rented = _rented ? _bytes : null;
        Clear();
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
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
