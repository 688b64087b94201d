namespace Actors.Lab.ClusterLinks;

/// <summary>
/// What a partition does: the nodes the spec selected, the others, and for every node the
/// <see cref="BlockTraffic"/> commands to send to its <see cref="ClusterLinkFaults"/> actor.
/// </summary>
/// <param name="Selected">The nodes the spec names (for one/minority the isolated side, for majority the majority side).</param>
/// <param name="Rest">Every other node.</param>
/// <param name="Blocks">Per node (only nodes with something to block): what it must drop.</param>
public sealed record PartitionPlan(
    string Spec,
    bool OneWay,
    IReadOnlyList<string> Selected,
    IReadOnlyList<string> Rest,
    IReadOnlyDictionary<string, IReadOnlyList<BlockedLink>> Blocks)
{
    /// <summary>The commands for one node, one per direction used (none when the node blocks nothing).</summary>
    public IReadOnlyList<BlockTraffic> CommandsFor(string node) =>
        Blocks.TryGetValue(node, out var links)
            ? links.GroupBy(l => l.Direction).Select(g => new BlockTraffic(g.Select(l => l.Address).ToList(), g.Key)).ToList()
            : [];
}

/// <summary>
/// Resolves Jepsen's node specs against the current members into the sides of a partition.
/// Pure: nodes are opaque strings (addresses, or names the caller maps to addresses); the random
/// choice comes from the given <see cref="Random"/>, so a seed replays a run.
/// <list type="bullet">
/// <item><c>one</c>: isolate one node from all others.</item>
/// <item><c>minority</c>: isolate a strict minority ((n-1)/2 nodes, at least 1) from the majority.</item>
/// <item><c>majority</c>: the same split, but the majority is the selected side (matters for one-way).</item>
/// <item><c>majorities-ring</c>: nodes in a ring each hear only a majority centred on themselves, and no two the same majority (n ≥ 3). Inherently asymmetric; <c>oneWay</c> is ignored.</item>
/// <item>a list <c>a,b,c</c>: isolate exactly those nodes (each must be a member).</item>
/// </list>
/// Two-way: both sides drop traffic both ways. One-way: the rest stop hearing from the selected
/// nodes (they drop inbound from them); the selected nodes still hear the rest.
/// </summary>
public static class PartitionPlanner
{
    public static readonly IReadOnlyList<string> Specs = ["one", "minority", "majority", "majorities-ring", "NODE[,NODE...]"];

    /// <param name="spec">one, minority, majority, majorities-ring, or a comma-separated list of nodes.</param>
    /// <param name="nodes">The current members (at least 2).</param>
    /// <param name="oneWay">Cut only the selected side's traffic towards the rest.</param>
    /// <param name="random">The source of the random choice (default <see cref="Random.Shared"/>).</param>
    /// <param name="keepInMajority">Nodes the random choice keeps out of the isolated side when it can (the lab itself, for instance).</param>
    /// <exception cref="ArgumentException">An unknown spec, an unknown node, too few nodes, or a list that selects all or none.</exception>
    public static PartitionPlan Plan(string spec, IReadOnlyList<string> nodes, bool oneWay = false, Random? random = null, IReadOnlyCollection<string>? keepInMajority = null)
    {
        random ??= Random.Shared;
        keepInMajority ??= [];
        var all = nodes.Distinct().ToList();
        if (all.Count < 2)
            throw new ArgumentException($"a partition needs at least 2 nodes, got {all.Count}");
        spec = spec.Trim();
        var minority = Math.Max(1, (all.Count - 1) / 2);
        switch (spec.ToLowerInvariant())
        {
            case "one":
                return Split(spec, all, Choose(all, 1, random, keepInMajority), oneWay);
            case "minority":
                return Split(spec, all, Choose(all, minority, random, keepInMajority), oneWay);
            case "majority":
                var small = Choose(all, minority, random, keepInMajority);
                return Split(spec, all, all.Except(small).ToList(), oneWay);
            case "majorities-ring":
                return Ring(spec, all, random);
            default:
                var listed = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
                if (listed.Count == 0)
                    throw new ArgumentException($"unknown node spec '{spec}' (known: {string.Join(", ", Specs)})");
                var unknown = listed.Where(n => !all.Contains(n)).ToList();
                if (unknown.Count > 0)
                    throw new ArgumentException($"not a member: {string.Join(", ", unknown)} (spec is one of {string.Join(", ", Specs)}; members: {string.Join(", ", all)})");
                if (listed.Count == all.Count)
                    throw new ArgumentException("the list names every member: nothing is left on the other side");
                return Split(spec, all, listed, oneWay);
        }
    }

    private static List<string> Choose(List<string> all, int count, Random random, IReadOnlyCollection<string> keepInMajority)
    {
        // Shuffle the candidates the caller allows first, then the rest, and take the first `count`.
        var preferred = all.Where(n => !keepInMajority.Contains(n)).OrderBy(_ => random.Next()).ToList();
        var others = all.Where(keepInMajority.Contains).OrderBy(_ => random.Next());
        return preferred.Concat(others).Take(count).ToList();
    }

    private static PartitionPlan Split(string spec, List<string> all, List<string> selected, bool oneWay)
    {
        var rest = all.Except(selected).ToList();
        var blocks = new Dictionary<string, IReadOnlyList<BlockedLink>>();
        if (oneWay)
        {
            foreach (var node in rest)
                blocks[node] = selected.Select(s => new BlockedLink(s, BlockDirection.Inbound)).ToList();
        }
        else
        {
            foreach (var node in selected)
                blocks[node] = rest.Select(r => new BlockedLink(r, BlockDirection.Both)).ToList();
            foreach (var node in rest)
                blocks[node] = selected.Select(s => new BlockedLink(s, BlockDirection.Both)).ToList();
        }
        return new PartitionPlan(spec, oneWay, selected, rest, blocks);
    }

    private static PartitionPlan Ring(string spec, List<string> all, Random random)
    {
        var n = all.Count;
        if (n < 3)
            throw new ArgumentException($"majorities-ring needs at least 3 nodes, got {n}");
        var ring = all.OrderBy(_ => random.Next()).ToList();
        var majority = n / 2 + 1;
        var before = (majority - 1) / 2;
        var blocks = new Dictionary<string, IReadOnlyList<BlockedLink>>();
        for (var i = 0; i < n; i++)
        {
            var hears = Enumerable.Range(i - before, majority).Select(j => ring[((j % n) + n) % n]).ToHashSet();
            blocks[ring[i]] = ring.Where(other => !hears.Contains(other)).Select(other => new BlockedLink(other, BlockDirection.Inbound)).ToList();
        }
        return new PartitionPlan(spec, OneWay: false, Selected: ring, Rest: [], blocks);
    }
}
