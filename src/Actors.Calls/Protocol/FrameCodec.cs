using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Actors.Calls.Protocol;

/// <summary>
/// Encodes call messages as frames: a 4-byte big-endian length (of what follows), a 1-byte type,
/// then the fields. Strings and byte arrays carry a 2-byte length. Pure: no I/O, no actors.
/// </summary>
public static class FrameCodec
{
    /// <summary>The version this code speaks: 2 adds <see cref="Punch"/> and the rendezvous's own Pings.</summary>
    public const ushort Version = 2;
    /// <summary>The oldest client version a rendezvous still serves (it never sends it version-2 frames).</summary>
    public const ushort MinVersion = 1;
    public const int HeaderSize = 4;
    /// <summary>Largest frame body (type + fields) either side accepts.</summary>
    public const int DefaultMaxFrame = 64 * 1024;
    public const int MaxStringBytes = 1024;

    internal enum Type : byte
    {
        Hello = 0x01, Challenge = 0x02, Register = 0x03, Registered = 0x04, Reachability = 0x05,
        Refused = 0x06, Displaced = 0x07,
        PlaceCall = 0x10, Ring = 0x11, Accept = 0x12, Reject = 0x13, Cancel = 0x14, HangUp = 0x15,
        CallEnded = 0x16, Connect = 0x17, PathLost = 0x18, Punch = 0x19, UdpOffer = 0x1A,
        Ping = 0x20, Pong = 0x21,
        Join = 0x30, Joined = 0x31, Probe = 0x32, ProbeReply = 0x33,
        Media = 0x40, Text = 0x41, Bye = 0x42,
    }

    public static byte[] Encode(CallMessage message, int maxFrame = DefaultMaxFrame)
    {
        var w = new Writer();
        w.U32(0); // length, patched below
        switch (message)
        {
            case Hello m: w.Type(Type.Hello).U16(m.Version).Str(m.Agent); break;
            case Challenge m: w.Type(Type.Challenge).Bytes(m.Nonce); break;
            case Register m: w.Type(Type.Register).Str(m.Id).Bytes(m.Proof).U16(m.ListenPort); break;
            case Registered m: w.Type(Type.Registered).Str(m.Id).Str(m.ObservedHost).U16(m.ObservedPort); break;
            case ReachabilityResult m: w.Type(Type.Reachability).U8(m.Reachable ? (byte)1 : (byte)0).Str(m.ProbedHost).U16(m.ProbedPort); break;
            case Refused m: w.Type(Type.Refused).U8((byte)m.Code).Str(m.Reason); break;
            case Displaced m: w.Type(Type.Displaced).Str(m.Reason); break;
            case PlaceCall m: w.Type(Type.PlaceCall).Str(m.CallId).Str(m.Callee); break;
            case Ring m: w.Type(Type.Ring).Str(m.CallId).Str(m.Caller); break;
            case Accept m: w.Type(Type.Accept).Str(m.CallId); break;
            case Reject m: w.Type(Type.Reject).Str(m.CallId).Str(m.Reason); break;
            case Cancel m: w.Type(Type.Cancel).Str(m.CallId); break;
            case HangUp m: w.Type(Type.HangUp).Str(m.CallId).Str(m.Reason); break;
            case CallEnded m: w.Type(Type.CallEnded).Str(m.CallId).U8((byte)m.Outcome).Str(m.Detail); break;
            case Connect m: w.Type(Type.Connect).Str(m.CallId).U8((byte)m.Path).U8((byte)m.Role).Str(m.Host).U16(m.Port).Str(m.Token); break;
            case PathLost m: w.Type(Type.PathLost).Str(m.CallId).Str(m.Token); break;
            case UdpOffer m: w.Type(Type.UdpOffer).Str(m.CallId).Bytes(m.Key).Str(m.Host).U16(m.Port).U8((byte)m.Sender); break;
            case Punch m: w.Type(Type.Punch).Str(m.CallId).U8((byte)m.Role).Str(m.Host).U16(m.Port).Str(m.Token).U16(m.DelayMs).U8(m.Attempts).U16(m.AttemptMs); break;
            case Ping m: w.Type(Type.Ping).I64(m.Nonce); break;
            case Pong m: w.Type(Type.Pong).I64(m.Nonce); break;
            case Join m: w.Type(Type.Join).Str(m.CallId).Str(m.Token).Str(m.Id); break;
            case Joined m: w.Type(Type.Joined).Str(m.CallId); break;
            case Probe m: w.Type(Type.Probe).Bytes(m.Nonce); break;
            case ProbeReply m: w.Type(Type.ProbeReply).Bytes(m.Nonce); break;
            case Media m: w.Type(Type.Media).U32(m.Seq).I64(m.TimestampMicros).Bytes(m.Payload); break;
            case Text m: w.Type(Type.Text).Str(m.Body); break;
            case Bye m: w.Type(Type.Bye).Str(m.Reason); break;
            default: throw new ArgumentException($"not a call message: {message.GetType().Name}", nameof(message));
        }
        var frame = w.ToArray();
        var length = frame.Length - HeaderSize;
        if (length > maxFrame) throw new ArgumentException($"frame of {length} bytes exceeds the {maxFrame}-byte limit", nameof(message));
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)length);
        return frame;
    }

    /// <summary>Decodes one frame body (type + fields). Throws <see cref="FrameFormatException"/> when malformed.</summary>
    public static CallMessage DecodeBody(ReadOnlySpan<byte> body)
    {
        var r = new Reader(body);
        var type = (Type)r.U8();
        CallMessage message = type switch
        {
            Type.Hello => new Hello(r.U16(), r.Str()),
            Type.Challenge => new Challenge(r.Bytes()),
            Type.Register => new Register(r.Str(), r.Bytes(), r.U16()),
            Type.Registered => new Registered(r.Str(), r.Str(), r.U16()),
            Type.Reachability => new ReachabilityResult(r.Bool(), r.Str(), r.U16()),
            Type.Refused => new Refused(r.Enum<RefusalCode>(), r.Str()),
            Type.Displaced => new Displaced(r.Str()),
            Type.PlaceCall => new PlaceCall(r.Str(), r.Str()),
            Type.Ring => new Ring(r.Str(), r.Str()),
            Type.Accept => new Accept(r.Str()),
            Type.Reject => new Reject(r.Str(), r.Str()),
            Type.Cancel => new Cancel(r.Str()),
            Type.HangUp => new HangUp(r.Str(), r.Str()),
            Type.CallEnded => new CallEnded(r.Str(), r.Enum<CallOutcome>(), r.Str()),
            Type.Connect => new Connect(r.Str(), r.Enum<PathKind>(), r.Enum<PathRole>(), r.Str(), r.U16(), r.Str()),
            Type.PathLost => new PathLost(r.Str(), r.Str()),
            Type.UdpOffer => new UdpOffer(r.Str(), r.Bytes(), r.Str(), r.U16(), r.Enum<UdpSender>()),
            Type.Punch => new Punch(r.Str(), r.Enum<PathRole>(), r.Str(), r.U16(), r.Str(), r.U16(), r.U8(), r.U16()),
            Type.Ping => new Ping(r.I64()),
            Type.Pong => new Pong(r.I64()),
            Type.Join => new Join(r.Str(), r.Str(), r.Str()),
            Type.Joined => new Joined(r.Str()),
            Type.Probe => new Probe(r.Bytes()),
            Type.ProbeReply => new ProbeReply(r.Bytes()),
            Type.Media => new Media(r.U32(), r.I64(), r.Bytes()),
            Type.Text => new Text(r.Str()),
            Type.Bye => new Bye(r.Str()),
            _ => throw new FrameFormatException($"unknown frame type 0x{(byte)type:x2}"),
        };
        if (!r.AtEnd) throw new FrameFormatException($"{r.Remaining} trailing bytes after {type}");
        return message;
    }

    private sealed class Writer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(64);
        public Writer Type(Type type) => U8((byte)type);
        public Writer U8(byte value) { _buffer.GetSpan(1)[0] = value; _buffer.Advance(1); return this; }
        public Writer U16(ushort value) { BinaryPrimitives.WriteUInt16BigEndian(_buffer.GetSpan(2), value); _buffer.Advance(2); return this; }
        public Writer U32(uint value) { BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value); _buffer.Advance(4); return this; }
        public Writer I64(long value) { BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value); _buffer.Advance(8); return this; }
        public Writer Bytes(ReadOnlySpan<byte> value)
        {
            if (value.Length > ushort.MaxValue) throw new ArgumentException("field longer than 65535 bytes");
            U16((ushort)value.Length);
            value.CopyTo(_buffer.GetSpan(value.Length));
            _buffer.Advance(value.Length);
            return this;
        }
        public Writer Str(string value)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            if (bytes.Length > MaxStringBytes) throw new ArgumentException($"string field longer than {MaxStringBytes} bytes");
            return Bytes(bytes);
        }
        public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> span)
    {
        private readonly ReadOnlySpan<byte> _span = span;
        private int _position;
        public readonly bool AtEnd => _position == _span.Length;
        public readonly int Remaining => _span.Length - _position;

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _span.Length - _position) throw new FrameFormatException("frame ends inside a field");
            var slice = _span.Slice(_position, count);
            _position += count;
            return slice;
        }
        public byte U8() => Take(1)[0];
        public bool Bool() => U8() switch { 0 => false, 1 => true, var b => throw new FrameFormatException($"bad boolean {b}") };
        public ushort U16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
        public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
        public long I64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));
        public byte[] Bytes() => Take(U16()).ToArray();
        public string Str()
        {
            var bytes = Take(U16());
            if (bytes.Length > MaxStringBytes) throw new FrameFormatException($"string field longer than {MaxStringBytes} bytes");
            try { return Strict.GetString(bytes); }
            catch (DecoderFallbackException) { throw new FrameFormatException("string field is not UTF-8"); }
        }
        public T Enum<T>() where T : struct, System.Enum
        {
            var value = U8();
            var e = (T)(object)value;
            if (!System.Enum.IsDefined(e)) throw new FrameFormatException($"bad {typeof(T).Name} {value}");
            return e;
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>A frame that violates the protocol; the connection that sent it is closed.</summary>
public sealed class FrameFormatException(string message) : Exception(message);
