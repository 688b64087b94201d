using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Actors.Torrent.Tracker;

/// <summary>
/// A 20-byte identifier (info-hash or peer id) as three integers: a dictionary key and a peer
/// record field without a string or array per peer.
/// </summary>
public readonly record struct Id20(ulong A, ulong B, uint C)
{
    public const int Length = 20;

    public static Id20 Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt64BigEndian(bytes),
        BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
        BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]));

    /// <summary>From 40 hex digits (how <see cref="AnnounceRequest"/> carries ids).</summary>
    public static Id20 FromHex(string hex)
    {
        Span<byte> bytes = stackalloc byte[Length];
        if (hex.Length != 2 * Length || Convert.FromHexString(hex, bytes, out _, out _) != System.Buffers.OperationStatus.Done)
            throw new FormatException("expected 40 hex digits");
        return Read(bytes);
    }

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64BigEndian(bytes, A);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], B);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[16..], C);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        Write(bytes);
        return bytes;
    }

    public string ToHex() => Convert.ToHexStringLower(ToBytes());

    public override string ToString() => ToHex();
}

/// <summary>
/// A peer's IP address in 16 bytes: IPv6 as is, IPv4 as an IPv4-mapped IPv6 address
/// (<c>::ffff:a.b.c.d</c>), so every peer record has the same size.
/// </summary>
public readonly record struct PeerAddress(ulong Hi, ulong Lo)
{
    public bool IsIPv4 => Hi == 0 && Lo >> 32 == 0xFFFF;

    public static PeerAddress From(IPAddress ip)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (ip.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes.Clear();
            bytes[10] = 0xFF;
            bytes[11] = 0xFF;
            ip.TryWriteBytes(bytes[12..], out _);
        }
        else ip.TryWriteBytes(bytes, out _);
        return Read(bytes);
    }

    public static PeerAddress Read(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    /// <summary>The 16 bytes (IPv4 mapped).</summary>
    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Hi);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Lo);
    }

    /// <summary>The address as a client dials it: 4 bytes for IPv4, 16 for IPv6.</summary>
    public int WriteCompact(Span<byte> bytes)
    {
        if (IsIPv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)Lo);
            return 4;
        }
        Write(bytes);
        return 16;
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        var length = WriteCompact(bytes);
        return new IPAddress(bytes[..length]);
    }

    public override string ToString() => ToIPAddress().ToString();
}

/// <summary>Tracker time: whole seconds since 2020-01-01 UTC, wall clock (nodes compare it), in an int.</summary>
public static class TrackerClock
{
    private const long Epoch = 1_577_836_800; // 2020-01-01T00:00:00Z

    public static int NowSeconds() => (int)(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - Epoch);
}
