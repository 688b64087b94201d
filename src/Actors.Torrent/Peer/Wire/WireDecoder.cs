using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Actors.Torrent.Peer.Wire;

/// <summary>
/// Incremental decoder for one peer connection: the handshake first, then length-prefixed
/// messages (BEP 3, BEP 5 port, BEP 6 Fast, BEP 10 extended). Input may be split anywhere. At most one incomplete
/// message is kept, and its size is bounded by <see cref="WireLimits.MaxMessageLength"/>; messages
/// with ids we do not speak are skipped without being buffered. Anything malformed throws
/// <see cref="PeerProtocolException"/> and nothing else.
/// The buffer for an incomplete message is rented from the shared pool only while one is pending
/// and given back once it is parsed: an idle connection holds no 16 KiB buffer.
/// </summary>
public sealed class WireDecoder
{
    private readonly WireLimits _limits;
    private byte[] _partial = [];
    private int _partialLength;
    private int _skip;

    public WireDecoder(WireLimits limits, bool expectHandshake = true)
    {
        _limits = limits;
        HandshakeDone = !expectHandshake;
    }

    public bool HandshakeDone { get; private set; }

    /// <summary>The remote peer's handshake, once received.</summary>
    public Handshake? Handshake { get; private set; }

    /// <summary>Bytes held for an incomplete message (bounded).</summary>
    public int Buffered => _partialLength;

    /// <summary>Consumes all of <paramref name="data"/>, appending each complete message to <paramref name="output"/>.</summary>
    /// <exception cref="PeerProtocolException">The bytes break the protocol.</exception>
    public void Decode(ReadOnlySpan<byte> data, ICollection<WireMessage> output)
    {
        while (true)
        {
            if (_skip > 0)
            {
                var n = Math.Min(_skip, data.Length);
                _skip -= n;
                data = data[n..];
                if (_skip > 0) return;
            }
            if (_partialLength > 0)
            {
                var need = Needed(_partial.AsSpan(0, _partialLength));
                var take = Math.Min(need - _partialLength, data.Length);
                Hold(_partialLength + take);
                data[..take].CopyTo(_partial.AsSpan(_partialLength));
                _partialLength += take;
                data = data[take..];
                if (_partialLength < need) return;
                if (Parse(_partial.AsSpan(0, _partialLength), output) > 0)
                {
                    _partialLength = 0;
                    Release();
                }
                continue;
            }
            if (data.IsEmpty) return;
            var used = Parse(data, output);
            if (used == 0)
            {
                Hold(data.Length);
                data.CopyTo(_partial);
                _partialLength = data.Length;
                return;
            }
            data = data[used..];
        }
    }

    /// <summary>Makes the partial buffer hold at least <paramref name="capacity"/> bytes, keeping what it holds.</summary>
    private void Hold(int capacity)
    {
        if (_partial.Length >= capacity) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 64));
        _partial.AsSpan(0, _partialLength).CopyTo(bigger);
        Release();
        _partial = bigger;
    }

    private void Release()
    {
        if (_partial.Length > 0) ArrayPool<byte>.Shared.Return(_partial);
        _partial = [];
    }

    /// <summary>How many bytes the buffered prefix needs before <see cref="Parse"/> can make progress.</summary>
    private int Needed(ReadOnlySpan<byte> prefix)
    {
        if (!HandshakeDone) return Wire.Handshake.Length;
        if (prefix.Length < 4) return 4;
        var length = ReadLength(prefix);
        if (length == 0) return 4;
        if (prefix.Length < 5) return 5;
        return IsKnown(prefix[4]) ? 4 + length : 5;
    }

    /// <summary>Parses one frame from the start of <paramref name="span"/>; returns bytes consumed, 0 when incomplete.</summary>
    private int Parse(ReadOnlySpan<byte> span, ICollection<WireMessage> output)
    {
        if (!HandshakeDone)
        {
            if (span.Length < Wire.Handshake.Length) return 0;
            if (span[0] != 19 || !span.Slice(1, 19).SequenceEqual(Wire.Handshake.Protocol))
                throw new PeerProtocolException("handshake does not start with 19 'BitTorrent protocol'");
            Handshake = new Handshake(span.Slice(20, 8).ToArray(), span.Slice(28, 20).ToArray(), span.Slice(48, 20).ToArray());
            HandshakeDone = true;
            return Wire.Handshake.Length;
        }
        if (span.Length < 4) return 0;
        var length = ReadLength(span);
        if (length == 0)
        {
            output.Add(WireMessage.KeepAlive.Instance);
            return 4;
        }
        if (span.Length < 5) return 0;
        var id = span[4];
        if (!IsKnown(id))
        {
            var available = (int)Math.Min(4L + length, span.Length);
            _skip = 4 + length - available;
            return available;
        }
        if (span.Length < 4 + length) return 0;
        output.Add(Message((WireMessageId)id, span.Slice(5, length - 1)));
        return 4 + length;
    }

    private int ReadLength(ReadOnlySpan<byte> span)
    {
        var length = BinaryPrimitives.ReadUInt32BigEndian(span);
        if (length > (uint)_limits.MaxMessageLength)
            throw new PeerProtocolException($"message of {length} bytes exceeds the limit of {_limits.MaxMessageLength}");
        return (int)length;
    }

    private bool IsKnown(byte id) => id switch
    {
        // Without the torrent's metadata a bitfield cannot be checked: skipped unread.
        (byte)WireMessageId.Bitfield => _limits.PiecesKnown,
        <= (byte)WireMessageId.Port => true,
        >= (byte)WireMessageId.Suggest and <= (byte)WireMessageId.AllowedFast => true,
        (byte)WireMessageId.Extended => true,
        _ => false,
    };

    private WireMessage Message(WireMessageId id, ReadOnlySpan<byte> payload)
    {
        switch (id)
        {
            case WireMessageId.Choke: Expect(payload, 0, id); return WireMessage.Choke.Instance;
            case WireMessageId.Unchoke: Expect(payload, 0, id); return WireMessage.Unchoke.Instance;
            case WireMessageId.Interested: Expect(payload, 0, id); return WireMessage.Interested.Instance;
            case WireMessageId.NotInterested: Expect(payload, 0, id); return WireMessage.NotInterested.Instance;
            case WireMessageId.Have:
                Expect(payload, 4, id);
                return new WireMessage.Have(Index(payload));
            case WireMessageId.Bitfield:
                Expect(payload, _limits.BitfieldLength, id);
                var spare = _limits.BitfieldLength * 8 - _limits.PieceCount;
                if (spare > 0 && (payload[^1] & ((1 << spare) - 1)) != 0)
                    throw new PeerProtocolException("bitfield has spare bits set");
                return new WireMessage.Bitfield(payload.ToArray());
            case WireMessageId.Request:
            case WireMessageId.Cancel:
                Expect(payload, 12, id);
                var index = Index(payload);
                var begin = NonNegative(payload[4..], "begin");
                var length = NonNegative(payload[8..], "length");
                return id == WireMessageId.Request
                    ? new WireMessage.Request(index, begin, length)
                    : new WireMessage.Cancel(index, begin, length);
            case WireMessageId.Port:
                Expect(payload, 2, id);
                return new WireMessage.Port(BinaryPrimitives.ReadUInt16BigEndian(payload));
            case WireMessageId.Suggest:
                Expect(payload, 4, id);
                return new WireMessage.Suggest(Index(payload));
            case WireMessageId.AllowedFast:
                Expect(payload, 4, id);
                return new WireMessage.AllowedFast(Index(payload));
            case WireMessageId.HaveAll: Expect(payload, 0, id); return WireMessage.HaveAll.Instance;
            case WireMessageId.HaveNone: Expect(payload, 0, id); return WireMessage.HaveNone.Instance;
            case WireMessageId.Reject:
                Expect(payload, 12, id);
                return new WireMessage.Reject(Index(payload), NonNegative(payload[4..], "begin"), NonNegative(payload[8..], "length"));
            case WireMessageId.Extended:
                if (payload.Length < 1) throw new PeerProtocolException("extended message without an extended id");
                if (payload.Length > WireLimits.MaxExtendedLength)
                    throw new PeerProtocolException($"extended message of {payload.Length} bytes exceeds {WireLimits.MaxExtendedLength}");
                return new WireMessage.Extended(payload[0], payload[1..].ToArray());
            case WireMessageId.Piece:
                if (payload.Length < 8) throw new PeerProtocolException("piece message shorter than 9 bytes");
                if (payload.Length - 8 > _limits.MaxBlockLength)
                    throw new PeerProtocolException($"block of {payload.Length - 8} bytes exceeds {_limits.MaxBlockLength}");
                return new WireMessage.Piece(Index(payload), NonNegative(payload[4..], "begin"), RentBlock(payload[8..]));
            default:
                throw new PeerProtocolException($"unexpected message id {id}");
        }
    }

    // A leecher receives a GiB in 65,536 blocks: each in a new array, that is a GiB for the GC.
    private static ReadOnlyMemory<byte> RentBlock(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return ReadOnlyMemory<byte>.Empty;
        var array = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(array);
        return array.AsMemory(0, bytes.Length);
    }

    /// <summary>
    /// Gives a decoded <see cref="WireMessage.Piece"/>'s block back to the pool. Only for a block this
    /// decoder made, once nothing reads it any more.
    /// </summary>
    public static void ReturnBlock(ReadOnlyMemory<byte> block)
    {
        if (MemoryMarshal.TryGetArray(block, out var segment) && segment.Array is { Length: > 0 } array)
            ArrayPool<byte>.Shared.Return(array);
    }

    private static void Expect(ReadOnlySpan<byte> payload, int length, WireMessageId id)
    {
        if (payload.Length != length)
            throw new PeerProtocolException($"{id} message has {payload.Length} payload bytes, expected {length}");
    }

    private int Index(ReadOnlySpan<byte> payload)
    {
        var index = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (!_limits.PiecesKnown)
            return index <= int.MaxValue ? (int)index : throw new PeerProtocolException($"piece index {index} out of range");
        if (index >= (uint)_limits.PieceCount)
            throw new PeerProtocolException($"piece index {index} out of range (0..{_limits.PieceCount - 1})");
        return (int)index;
    }

    private static int NonNegative(ReadOnlySpan<byte> payload, string what)
    {
        var value = BinaryPrimitives.ReadInt32BigEndian(payload);
        if (value < 0) throw new PeerProtocolException($"negative {what} {value}");
        return value;
    }
}
