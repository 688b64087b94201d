using System.Security.Cryptography;
using System.Text;

namespace Actors.Calls.Protocol;

/// <summary>
/// Challenge-response: the rendezvous sends a fresh random nonce; the caller answers with
/// HMAC-SHA256(key = secret, "actors-call-v1" | nonce | id). The secret never crosses the wire
/// and a proof is useless for any other nonce or identity.
/// </summary>
public static class CallAuth
{
    public const int NonceSize = 32;
    private static readonly byte[] Context = "actors-call-v1"u8.ToArray();

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NonceSize);

    public static byte[] Proof(string secret, ReadOnlySpan<byte> nonce, string id)
    {
        var id8 = Encoding.UTF8.GetBytes(id);
        var data = new byte[Context.Length + nonce.Length + id8.Length];
        Context.CopyTo(data, 0);
        nonce.CopyTo(data.AsSpan(Context.Length));
        id8.CopyTo(data, Context.Length + nonce.Length);
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), data);
    }

    public static bool Verify(string secret, ReadOnlySpan<byte> nonce, string id, ReadOnlySpan<byte> proof) =>
        CryptographicOperations.FixedTimeEquals(Proof(secret, nonce, id), proof);

    /// <summary>A random token or id, hex, of <paramref name="bytes"/> random bytes.</summary>
    public static string RandomId(int bytes = 16) => Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();

    /// <summary>Identities: 1-64 of letters, digits, '.', '_', '-'.</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
