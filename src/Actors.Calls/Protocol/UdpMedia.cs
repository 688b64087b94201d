using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Actors.Calls.Protocol;

/// <summary>What a UDP media datagram carries.</summary>
public enum UdpKind : byte
{
    /// <summary>A hole-punch probe: "here I am"; answered with Hello until media flows.</summary>
    Hello = 1,
    Media = 2,
    Ping = 3,
    Pong = 4,
}

/// <summary>Which side sent a datagram: part of the authenticated bytes, so a datagram reflected back to its sender is refused.</summary>
public enum UdpSender : byte { Caller = 1, Callee = 2 }

/// <summary>One decoded datagram. <paramref name="Value"/> is the timestamp (Media, µs) or the nonce (Ping/Pong).</summary>
public sealed record UdpDatagram(UdpKind Kind, UdpSender Sender, uint Number, uint Seq, long Value, byte[] Payload);

public enum UdpDecodeStatus { Ok, TooShort, TooLong, BadMagic, BadTag, BadSender, UnknownKind, BadLength }

/// <summary>
/// The UDP media codec (protocol version 2). Every datagram is authenticated with the call's key
/// (32 random bytes from the rendezvous, sent only on the two callers' signalling connections):
/// <code>
/// datagram = magic 0xAC | kind u8 | sender u8 | number u32be | body | tag (16 bytes)
///   Hello: no body · Media: seq u32be, timestampMicros i64be, payload (the rest) · Ping, Pong: nonce i64be
/// tag = HMAC-SHA256(key, "actors-udp-v1" ‖ everything before the tag), first 16 bytes
/// </code>
/// <c>number</c> counts every datagram a side sends; the receiver's <see cref="ReplayWindow"/>
/// refuses a number it has seen or one too old, so a captured datagram cannot be played again.
/// The tag is checked (in constant time) before any field is read. Pure: no I/O, no actors; one
/// instance per call and side (it keeps an incremental HMAC), not thread-safe.
/// </summary>
public sealed class UdpMediaCodec
{
    public const byte Magic = 0xAC;
    public const int KeySize = 32;
    public const int TagSize = 16;
    public const int HeaderSize = 7;
    /// <summary>Largest datagram sent or accepted: below the usual 1500-byte MTU with IP and UDP headers.</summary>
    public const int MaxDatagram = 1400;
    public const int MaxMediaPayload = MaxDatagram - HeaderSize - 12 - TagSize;
    private static readonly byte[] Context = "actors-udp-v1"u8.ToArray();

    private readonly IncrementalHash _hmac;

    public UdpMediaCodec(byte[] key)
    {
        if (key.Length != KeySize) throw new ArgumentException($"a call's UDP key is {KeySize} bytes, not {key.Length}", nameof(key));
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
    }

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeySize);

    public byte[] Encode(UdpDatagram d)
    {
        var body = d.Kind switch
        {
            UdpKind.Hello => 0,
            UdpKind.Media => 12 + d.Payload.Length,
            UdpKind.Ping or UdpKind.Pong => 8,
            _ => throw new ArgumentException($"unknown kind {d.Kind}", nameof(d)),
        };
        if (d.Kind == UdpKind.Media && d.Payload.Length > MaxMediaPayload)
            throw new ArgumentException($"media payload of {d.Payload.Length} bytes exceeds {MaxMediaPayload}", nameof(d));
        var datagram = new byte[HeaderSize + body + TagSize];
        var span = datagram.AsSpan();
        span[0] = Magic;
        span[1] = (byte)d.Kind;
        span[2] = (byte)d.Sender;
        BinaryPrimitives.WriteUInt32BigEndian(span[3..], d.Number);
        switch (d.Kind)
        {
            case UdpKind.Media:
                BinaryPrimitives.WriteUInt32BigEndian(span[HeaderSize..], d.Seq);
                BinaryPrimitives.WriteInt64BigEndian(span[(HeaderSize + 4)..], d.Value);
                d.Payload.CopyTo(span[(HeaderSize + 12)..]);
                break;
            case UdpKind.Ping or UdpKind.Pong:
                BinaryPrimitives.WriteInt64BigEndian(span[HeaderSize..], d.Value);
                break;
        }
        Tag(span[..^TagSize], span[^TagSize..]);
        return datagram;
    }

    /// <summary>Checks the tag, then the fields. Never throws on any input.</summary>
    public UdpDecodeStatus Decode(ReadOnlySpan<byte> datagram, out UdpDatagram? decoded)
    {
        decoded = null;
        if (datagram.Length < HeaderSize + TagSize) return UdpDecodeStatus.TooShort;
        if (datagram.Length > MaxDatagram) return UdpDecodeStatus.TooLong;
        if (datagram[0] != Magic) return UdpDecodeStatus.BadMagic;
        Span<byte> tag = stackalloc byte[TagSize];
        Tag(datagram[..^TagSize], tag);
        if (!CryptographicOperations.FixedTimeEquals(tag, datagram[^TagSize..])) return UdpDecodeStatus.BadTag;
        var sender = (UdpSender)datagram[2];
        if (sender is not (UdpSender.Caller or UdpSender.Callee)) return UdpDecodeStatus.BadSender;
        var number = BinaryPrimitives.ReadUInt32BigEndian(datagram[3..]);
        var body = datagram[HeaderSize..^TagSize];
        switch ((UdpKind)datagram[1])
        {
            case UdpKind.Hello:
                if (body.Length != 0) return UdpDecodeStatus.BadLength;
                decoded = new UdpDatagram(UdpKind.Hello, sender, number, 0, 0, []);
                return UdpDecodeStatus.Ok;
            case UdpKind.Media:
                if (body.Length < 12) return UdpDecodeStatus.BadLength;
                decoded = new UdpDatagram(UdpKind.Media, sender, number, BinaryPrimitives.ReadUInt32BigEndian(body),
                    BinaryPrimitives.ReadInt64BigEndian(body[4..]), body[12..].ToArray());
                return UdpDecodeStatus.Ok;
            case UdpKind.Ping or UdpKind.Pong:
                if (body.Length != 8) return UdpDecodeStatus.BadLength;
                decoded = new UdpDatagram((UdpKind)datagram[1], sender, number, 0, BinaryPrimitives.ReadInt64BigEndian(body), []);
                return UdpDecodeStatus.Ok;
            default:
                return UdpDecodeStatus.UnknownKind;
        }
    }

    private void Tag(ReadOnlySpan<byte> data, Span<byte> tag)
    {
        Span<byte> full = stackalloc byte[32];
        _hmac.AppendData(Context);
        _hmac.AppendData(data);
        _hmac.GetHashAndReset(full);
        full[..TagSize].CopyTo(tag);
    }
}

/// <summary>
/// Anti-replay for datagram numbers (RFC 4303 §3.4.3, as WireGuard does): the highest number seen
/// and a 64-bit map of the 64 numbers below it. A number seen before, or 64 or more below the
/// highest, is refused. Call <see cref="TryAccept"/> only for datagrams whose tag checked out, or
/// a forger could move the window. Numbers are per call and side; 2^32 datagrams at 50 a second
/// would take 2.7 years, so they do not wrap within a call.
/// </summary>
public sealed class ReplayWindow
{
    public const int Size = 64;
    private ulong _seen;
    private uint _highest;
    private bool _any;

    public bool TryAccept(uint number)
    {
        if (!_any || number > _highest)
        {
            var shift = _any ? number - _highest : Size;
            _seen = shift >= Size ? 1UL : (_seen << (int)shift) | 1UL;
            _highest = number;
            _any = true;
            return true;
        }
        var age = _highest - number;
        if (age >= Size) return false;
        var bit = 1UL << (int)age;
        if ((_seen & bit) != 0) return false;
        _seen |= bit;
        return true;
    }
}

/// <summary>
/// A fixed-delay jitter buffer for media frames that arrive over UDP (out of order, late, lost):
/// frames wait by sequence number; playout starts once <paramref name="depth"/> frames are
/// buffered, then takes one frame per frame interval (<see cref="Pop"/>). A frame missing at its
/// playout time is concealed (counted; a real codec would repeat or interpolate), one arriving
/// after it is late and dropped. At most <paramref name="capacity"/> frames are held; a frame
/// further ahead than that means the sender jumped (a new path, a long gap): the buffer starts over.
/// </summary>
public sealed class JitterBuffer(int depth = 3, int capacity = 64)
{
    private readonly SortedDictionary<uint, byte[]> _frames = [];
    private bool _playing;
    private uint _next;

    public long Played { get; private set; }
    public long Concealed { get; private set; }
    public long Late { get; private set; }
    public long Duplicates { get; private set; }
    public long Resyncs { get; private set; }
    public int Buffered => _frames.Count;

    public void Push(uint seq, byte[] payload)
    {
        if (_playing)
        {
            if (seq < _next) { Late++; return; }
            if (seq - _next >= (uint)capacity)
            {
                _frames.Clear();
                _playing = false;
                Resyncs++;
            }
        }
        if (_frames.ContainsKey(seq)) { Duplicates++; return; }
        _frames[seq] = payload;
        // While filling up, keep only the newest frames that fit (while playing they all lie in [next, next + capacity)).
        while (_frames.Count > capacity) _frames.Remove(_frames.Keys.First());
    }

    /// <summary>The frame due now; null while filling up, or when it is missing (then concealed).</summary>
    public byte[]? Pop()
    {
        if (!_playing)
        {
            if (_frames.Count < depth) return null;
            _playing = true;
            _next = _frames.Keys.First();
        }
        var seq = _next++;
        if (_frames.Remove(seq, out var frame)) { Played++; return frame; }
        Concealed++;
        return null;
    }
}
