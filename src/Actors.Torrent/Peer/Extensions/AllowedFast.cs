using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Actors.Torrent.Peer.Extensions;

/// <summary>BEP 6's allowed-fast set: pieces a peer may download from us while choked, derived from its IP and the info-hash.</summary>
public static class AllowedFast
{
    /// <summary>The BEP's recommended set size.</summary>
    public const int DefaultSize = 10;

    /// <summary>
    /// The BEP 6 algorithm: x = (IPv4 &amp; 0xFFFFFF00) + info-hash; repeat x = SHA-1(x) and take
    /// its five 32-bit words modulo the piece count until <paramref name="size"/> distinct pieces.
    /// IPv6 peers (not IPv4-mapped) get none: the BEP defines the set for IPv4 only.
    /// </summary>
    public static IReadOnlyList<int> Compute(IPAddress peer, ReadOnlySpan<byte> infoHash, int pieceCount, int size = DefaultSize)
    {
        if (peer.IsIPv4MappedToIPv6) peer = peer.MapToIPv4();
        if (peer.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || pieceCount <= 0) return [];
        size = Math.Min(size, pieceCount);
        var set = new List<int>(size);
        Span<byte> x = stackalloc byte[24];
        peer.GetAddressBytes().CopyTo(x);
        x[3] = 0;
        infoHash[..20].CopyTo(x[4..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(x, hash);
        while (true)
        {
            for (var i = 0; i < 5 && set.Count < size; i++)
            {
                var index = (int)(BinaryPrimitives.ReadUInt32BigEndian(hash[(i * 4)..]) % (uint)pieceCount);
                if (!set.Contains(index)) set.Add(index);
            }
            if (set.Count >= size) return set;
            hash.CopyTo(x);
            SHA1.HashData(x[..20], hash);
        }
    }
}
