using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Actors.Torrent.Dht;

/// <summary>
/// A 160-bit DHT identifier (a node id or an info-hash, BEP 5). Held as three big-endian words so
/// XOR distances compare without allocating; the bytes are the id in network order.
/// </summary>
public readonly record struct NodeId(ulong High, ulong Middle, uint Low) : IComparable<NodeId>
{
    public const int Size = 20;
    public const int Bits = 160;

    public static NodeId Zero => default;

    public static NodeId Max => new(ulong.MaxValue, ulong.MaxValue, uint.MaxValue);

    /// <exception cref="ArgumentException">The span is not 20 bytes.</exception>
    public static NodeId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size) throw new ArgumentException($"a node id is {Size} bytes, not {bytes.Length}", nameof(bytes));
        return new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]));
    }

    public static NodeId Random()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        return FromBytes(bytes);
    }

    /// <exception cref="FormatException">Not 40 hex digits.</exception>
    public static NodeId Parse(string hex)
    {
        if (hex.Length != 2 * Size) throw new FormatException($"a node id is {2 * Size} hex digits");
        return FromBytes(Convert.FromHexString(hex));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Middle);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], Low);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        WriteTo(bytes);
        return bytes;
    }

    public NodeId Xor(NodeId other) => new(High ^ other.High, Middle ^ other.Middle, Low ^ other.Low);

    /// <summary>Unsigned big-endian order (of distances, when both are XORs with one target).</summary>
    public int CompareTo(NodeId other)
    {
        var c = High.CompareTo(other.High);
        if (c != 0) return c;
        c = Middle.CompareTo(other.Middle);
        return c != 0 ? c : Low.CompareTo(other.Low);
    }

    /// <summary>Negative when <paramref name="a"/> is closer to <paramref name="target"/> than <paramref name="b"/> (XOR metric).</summary>
    public static int CompareDistance(NodeId a, NodeId b, NodeId target) => a.Xor(target).CompareTo(b.Xor(target));

    /// <summary>How many leading bits the two ids share (160 when equal).</summary>
    public int CommonPrefixLength(NodeId other)
    {
        var x = Xor(other);
        if (x.High != 0) return System.Numerics.BitOperations.LeadingZeroCount(x.High);
        if (x.Middle != 0) return 64 + System.Numerics.BitOperations.LeadingZeroCount(x.Middle);
        if (x.Low != 0) return 128 + System.Numerics.BitOperations.LeadingZeroCount(x.Low);
        return Bits;
    }

    /// <summary>Bit <paramref name="index"/> counted from the most significant (0..159).</summary>
    public bool Bit(int index) => index switch
    {
        < 64 => ((High >> (63 - index)) & 1) != 0,
        < 128 => ((Middle >> (127 - index)) & 1) != 0,
        _ => ((Low >> (159 - index)) & 1) != 0,
    };

    /// <summary>
    /// A random id that shares exactly the first <paramref name="prefixBits"/> bits with this one and
    /// differs in the next (when <paramref name="prefixBits"/> &lt; 160): a target inside the bucket
    /// at that depth, used to refresh it.
    /// </summary>
    public NodeId RandomInBucket(int prefixBits, bool flipNext = true)
    {
        var random = Random();
        if (prefixBits <= 0 && !flipNext) return random;
        Span<byte> mine = stackalloc byte[Size];
        Span<byte> result = stackalloc byte[Size];
        WriteTo(mine);
        random.WriteTo(result);
        for (var i = 0; i < Math.Min(prefixBits, Bits); i++) SetBit(result, i, GetBit(mine, i));
        if (flipNext && prefixBits < Bits) SetBit(result, prefixBits, !GetBit(mine, prefixBits));
        return FromBytes(result);
    }

    private static bool GetBit(ReadOnlySpan<byte> bytes, int i) => (bytes[i >> 3] & (0x80 >> (i & 7))) != 0;

    private static void SetBit(Span<byte> bytes, int i, bool on)
    {
        if (on) bytes[i >> 3] |= (byte)(0x80 >> (i & 7));
        else bytes[i >> 3] &= (byte)~(0x80 >> (i & 7));
    }

    public override string ToString() => $"{High:x16}{Middle:x16}{Low:x8}";
}
