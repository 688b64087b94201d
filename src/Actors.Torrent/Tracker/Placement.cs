using Akka.Actor;

namespace Actors.Torrent.Tracker;

/// <summary>
/// Which tracker node owns each partition and which one holds its backup: rendezvous (highest
/// random weight) hashing over the nodes in the view. Every node computes the same answer from the
/// same view with no coordinator, and a node joining or leaving moves only the partitions it
/// wins or held (about 1/N of them), not a reshuffle. Pure.
/// </summary>
public sealed class Placement
{
    private readonly Address[] _owner;
    private readonly Address?[] _backup;

    public IReadOnlyList<Address> Nodes { get; }

    private Placement(IReadOnlyList<Address> nodes, Address[] owner, Address?[] backup)
    {
        Nodes = nodes;
        _owner = owner;
        _backup = backup;
    }

    public int Partitions => _owner.Length;

    public Address Owner(int partition) => _owner[partition];

    public Address? Backup(int partition) => _backup[partition];

    public bool Holds(int partition, Address node) => _owner[partition].Equals(node) || node.Equals(_backup[partition]);

    /// <summary>Owner first, then the backup (if the view has a second node).</summary>
    public IEnumerable<Address> Holders(int partition)
    {
        yield return _owner[partition];
        if (_backup[partition] is { } backup) yield return backup;
    }

    /// <param name="nodes">The tracker nodes in the view; at least one.</param>
    public static Placement Compute(IReadOnlyCollection<Address> nodes, int partitions)
    {
        if (nodes.Count == 0) throw new ArgumentException("a placement needs at least one node", nameof(nodes));
        var sorted = nodes.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
        var seeds = sorted.Select(a => Hash(a.ToString())).ToArray();
        var owner = new Address[partitions];
        var backup = new Address?[partitions];
        for (var p = 0; p < partitions; p++)
        {
            int first = -1, second = -1;
            ulong best = 0, next = 0;
            for (var i = 0; i < sorted.Length; i++)
            {
                var weight = Mix(seeds[i] ^ (ulong)p * 0x9E3779B97F4A7C15UL);
                if (first < 0 || weight > best) { second = first; next = best; first = i; best = weight; }
                else if (second < 0 || weight > next) { second = i; next = weight; }
            }
            owner[p] = sorted[first];
            backup[p] = second < 0 ? null : sorted[second];
        }
        return new Placement(sorted, owner, backup);
    }

    /// <summary>FNV-1a over the address text: stable across processes (string.GetHashCode is not).</summary>
    private static ulong Hash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }

    /// <summary>SplitMix64 finaliser: spreads the per-partition weights.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
