using System.Net;
using System.Security.Cryptography;

namespace Actors.Torrent.Dht;

/// <summary>
/// get_peers tokens (BEP 5): a keyed hash of the asker's IP address. The secret is replaced every
/// five minutes and tokens made with the previous one are still accepted, so a token lives 5 to 10
/// minutes and is worth nothing from another address.
/// </summary>
public sealed class TokenIssuer
{
    public const int TokenBytes = 8;

    private byte[] _current = RandomNumberGenerator.GetBytes(20);
    private byte[] _previous = RandomNumberGenerator.GetBytes(20);

    public byte[] Issue(IPAddress asker) => Compute(_current, asker);

    public bool IsValid(IPAddress asker, ReadOnlySpan<byte> token) =>
        token.Length == TokenBytes
        && (CryptographicOperations.FixedTimeEquals(token, Compute(_current, asker))
            || CryptographicOperations.FixedTimeEquals(token, Compute(_previous, asker)));

    /// <summary>A new secret; the current one becomes the previous (the one before is forgotten).</summary>
    public void Rotate()
    {
        _previous = _current;
        _current = RandomNumberGenerator.GetBytes(20);
    }

    private static byte[] Compute(byte[] secret, IPAddress asker)
    {
        var address = (asker.IsIPv4MappedToIPv6 ? asker.MapToIPv4() : asker).GetAddressBytes();
        return HMACSHA256.HashData(secret, address)[..TokenBytes];
    }
}
