using Akka.Actor;

namespace Actors.Torrent.Tracker;

/// <summary>
/// Which tracker node owns each partition and which one holds its backup: rendezvous (highest
/// random weight) hashing over the nodes in the view. Every node computes the same answer from the
/// same view with no coordinator, and a node joining or leaving moves only the partitions it
/// wins or held (about 1/N of them), not a reshuffle. With <c>replicas</c> = k the k highest
/// weights hold the partition (k = 2: owner and one backup, as before). Pure.
/// </summary>
public sealed class Placement
{
    /// <summary>Per partition, its holders by falling weight: the owner first, then the backups.</summary>
    private readonly Address[][] _holders;

    public IReadOnlyList<Address> Nodes { get; }

    private Placement(IReadOnlyList<Address> nodes, Address[][] holders)
    {
        Nodes = nodes;
        _holders = holders;
    }

    public int Partitions => _holders.Length;

    public Address Owner(int partition) => _holders[partition][0];

    /// <summary>The first backup, or null when the partition has a single holder.</summary>
    public Address? Backup(int partition) => _holders[partition].Length > 1 ? _holders[partition][1] : null;

    public bool Holds(int partition, Address node) => Array.IndexOf(_holders[partition], node) >= 0;

    /// <summary>Owner first, then the backups (as many as the replica count and the view allow).</summary>
    public IReadOnlyList<Address> Holders(int partition) => _holders[partition];

    /// <param name="nodes">The tracker nodes in the view; at least one.</param>
    /// <param name="replicas">Holders per partition (owner included), capped by the node count.</param>
    public static Placement Compute(IReadOnlyCollection<Address> nodes, int partitions, int replicas = 2)
    {
        if (nodes.Count == 0) throw new ArgumentException("a placement needs at least one node", nameof(nodes));
        if (replicas < 1) throw new ArgumentOutOfRangeException(nameof(replicas), "at least one holder per partition");
        var sorted = nodes.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal).ToArray();
        var seeds = sorted.Select(a => Hash(a.ToString())).ToArray();
        var count = Math.Min(replicas, sorted.Length);
        var holders = new Address[partitions][];
        var weights = new ulong[sorted.Length];
        var order = new int[sorted.Length];
        for (var p = 0; p < partitions; p++)
        {
            for (var i = 0; i < sorted.Length; i++)
            {
                weights[i] = Mix(seeds[i] ^ (ulong)p * 0x9E3779B97F4A7C15UL);
                order[i] = i;
            }
            // Highest weights first (ties, practically impossible, by address order).
            Array.Sort(order, (x, y) => weights[y].CompareTo(weights[x]) is var c && c != 0 ? c : x.CompareTo(y));
            var chosen = new Address[count];
            for (var k = 0; k < count; k++) chosen[k] = sorted[order[k]];
            holders[p] = chosen;
        }
        return new Placement(sorted, holders);
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
