using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Actors.Torrent.Tracker.Udp;

/// <summary>
/// BEP 15 connection ids that need no per-client state and that nobody can forge: the first 8
/// bytes of HMAC-SHA256(secret, time window ‖ source address ‖ source port). A client proves it
/// receives datagrams at its source address by echoing the id it was sent there; a spoofer never
/// sees that id and cannot compute it without the secret (random, made at start, never sent).
/// </summary>
/// <remarks>
/// An id issued in window w is accepted in windows w and w + 1, so it lives between one and two
/// windows (with the default of two minutes: at least the two minutes BEP 15 asks of a tracker).
/// One instance per actor (it is not thread-safe). Every tracker node has its own secret: a client gets its id from the node it announces to
/// (one URL is one node, or a UDP load balancer that keeps a source on one node).
/// </remarks>
public sealed class UdpConnectionIds
{
    // One HMAC keyed once, reused: keying per datagram cost more than hashing. Not thread-safe:
    // an instance belongs to one actor (the UdpTracker that owns the socket).
    private readonly IncrementalHash _hmac;
    private readonly long _windowSeconds;
    private readonly Func<long> _nowSeconds;

    public UdpConnectionIds(ReadOnlySpan<byte> secret, TimeSpan window, Func<long>? nowSeconds = null)
    {
        if (secret.Length < 16) throw new ArgumentException("the secret needs at least 16 bytes", nameof(secret));
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromSeconds(1));
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        _windowSeconds = (long)window.TotalSeconds;
        _nowSeconds = nowSeconds ?? (() => DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    /// <summary>Ids with a fresh random 32-byte secret.</summary>
    public static UdpConnectionIds Random(TimeSpan window) => new(RandomNumberGenerator.GetBytes(32), window);

    public static TimeSpan DefaultWindow { get; } = TimeSpan.FromMinutes(2);

    /// <summary>The id for <paramref name="source"/> now.</summary>
    public long Issue(IPEndPoint source) => Compute(source, Window());

    /// <summary>Whether <paramref name="id"/> is one this node issued to <paramref name="source"/> in this window or the previous one.</summary>
    /// <remarks>
    /// The previous window is computed only when the current one does not match: the time taken
    /// tells a client which window its own id is from, which it knows anyway; the 64-bit id is
    /// compared whole, so timing reveals nothing of an id one does not hold.
    /// </remarks>
    public bool IsValid(long id, IPEndPoint source)
    {
        var window = Window();
        return Compute(source, window) == id || Compute(source, window - 1) == id;
    }

    private long Window() => _nowSeconds() / _windowSeconds;

    private long Compute(IPEndPoint source, long window)
    {
        Span<byte> input = stackalloc byte[8 + 16 + 2];
        BinaryPrimitives.WriteInt64BigEndian(input, window);
        // IPv4 as its IPv4-mapped IPv6 form, so one source gets one id whichever way the socket reports it.
        var address = source.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? source.Address.MapToIPv6()
            : source.Address;
        if (!address.TryWriteBytes(input.Slice(8, 16), out _)) throw new ArgumentException($"not an IP address: {source}", nameof(source));
        BinaryPrimitives.WriteUInt16BigEndian(input[24..], (ushort)source.Port);
        Span<byte> mac = stackalloc byte[32];
        _hmac.AppendData(input);
        _hmac.GetHashAndReset(mac);
        return BinaryPrimitives.ReadInt64BigEndian(mac);
    }
}
