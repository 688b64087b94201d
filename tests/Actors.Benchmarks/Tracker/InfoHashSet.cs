using System.Security.Cryptography;
using System.Text;

namespace Actors.Benchmarks.Tracker;

/// <summary>
/// The fixed set of info-hashes the load announces to. Fixed so opentracker can whitelist them,
/// and derived from a seed (SHA-1 of a name) so every run uses the same swarms.
/// </summary>
public sealed class InfoHashSet
{
    private InfoHashSet(IReadOnlyList<byte[]> hashes)
    {
        Hashes = hashes;
    }

    public IReadOnlyList<byte[]> Hashes { get; }

    public static InfoHashSet Create(int count) =>
        new(Enumerable.Range(0, count).Select(i => SHA1.HashData(Encoding.ASCII.GetBytes($"actors-bench-swarm-{i}"))).ToList());

    /// <summary>One 40-hex info-hash per line, opentracker's whitelist format.</summary>
    public string ToWhitelist() => string.Concat(Hashes.Select(h => Convert.ToHexStringLower(h) + "\n"));

    /// <summary>Every byte as %XX: valid for any byte value and unambiguous for every tracker.</summary>
    public static string PercentEncode(byte[] bytes) => string.Concat(bytes.Select(b => $"%{b:X2}"));
}
