namespace Actors.Lab.ClusterLinks;

/// <summary>Traffic from <paramref name="From"/> does not reach <paramref name="To"/>.</summary>
public sealed record Cut(string From, string To);

/// <summary>
/// What a partition does: the nodes the spec selected, the others, the directed cuts, and for
/// every node the <see cref="BlockTraffic"/> commands to send to its <see cref="ClusterLinkFaults"/>.
/// Every cut that touches the controller (the lab's own node) is applied on the controller, every
/// other cut on its receiving node; so the controller keeps talking to every node: send the
/// commands in <see cref="ApplyOrder"/> (controller last) and heal in <see cref="HealOrder"/>
/// (controller first), and every request and reply gets through.
/// </summary>
/// <param name="Selected">The nodes the spec names (for one/minority the isolated side, for majority the majority side).</param>
/// <param name="Rest">Every other node.</param>
/// <param name="Blocks">Per node (only nodes with something to block): what it must drop.</param>
public sealed record PartitionPlan(
    string Spec,
    bool OneWay,
    IReadOnlyList<string> Selected,
    IReadOnlyList<string> Rest,
    IReadOnlyList<Cut> Cuts,
    string? Controller,
    IReadOnlyDictionary<string, IReadOnlyList<BlockedLink>> Blocks)
{
    /// <summary>The commands for one node, one per direction used (none when the node blocks nothing).</summary>
    public IReadOnlyList<BlockTraffic> CommandsFor(string node) =>
        Blocks.TryGetValue(node, out var links)
            ? links.GroupBy(l => l.Direction).Select(g => new BlockTraffic(g.Select(l => l.Address).ToList(), g.Key)).ToList()
            : [];

    /// <summary>The nodes that block something, the controller last.</summary>
    public IReadOnlyList<string> ApplyOrder =>
        Blocks.Keys.Where(n => n != Controller).Order(StringComparer.Ordinal).Concat(Blocks.ContainsKey(Controller ?? "") ? [Controller!] : []).ToList();

    /// <summary>The nodes to heal, the controller first.</summary>
    public IReadOnlyList<string> HealOrder => ApplyOrder.Reverse().ToList();
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
/// Two-way: no traffic crosses between the sides. One-way: the rest stop hearing from the selected
/// nodes; the selected nodes still hear the rest.
/// </summary>
public static class PartitionPlanner
{
    public static readonly IReadOnlyList<string> Specs = ["one", "minority", "majority", "majorities-ring", "NODE[,NODE...]"];

    /// <param name="spec">one, minority, majority, majorities-ring, or a comma-separated list of nodes.</param>
    /// <param name="nodes">The current members (at least 2).</param>
    /// <param name="oneWay">Cut only the selected side's traffic towards the rest.</param>
    /// <param name="random">The source of the random choice (default <see cref="Random.Shared"/>).</param>
    /// <param name="keepInMajority">Nodes the random choice keeps out of the isolated side when it can (the lab itself, for instance).</param>
    /// <param name="controller">The node that sends the commands (the lab's); cuts that touch it are applied on it. Null: every cut on its receiving node.</param>
    /// <exception cref="ArgumentException">An unknown spec, an unknown node, too few nodes, or a list that selects all or none.</exception>
    public static PartitionPlan Plan(string spec, IReadOnlyList<string> nodes, bool oneWay = false, Random? random = null, IReadOnlyCollection<string>? keepInMajority = null, string? controller = null)
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
                return Split(spec, all, Choose(all, 1, random, keepInMajority), oneWay, controller);
            case "minority":
                return Split(spec, all, Choose(all, minority, random, keepInMajority), oneWay, controller);
            case "majority":
                var small = Choose(all, minority, random, keepInMajority);
                return Split(spec, all, all.Except(small).ToList(), oneWay, controller);
            case "majorities-ring":
                return Ring(spec, all, random, controller);
            default:
                var listed = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
                if (listed.Count == 0)
                    throw new ArgumentException($"unknown node spec '{spec}' (known: {string.Join(", ", Specs)})");
                var unknown = listed.Where(n => !all.Contains(n)).ToList();
                if (unknown.Count > 0)
                    throw new ArgumentException($"not a member: {string.Join(", ", unknown)} (spec is one of {string.Join(", ", Specs)}; members: {string.Join(", ", all)})");
                if (listed.Count == all.Count)
                    throw new ArgumentException("the list names every member: nothing is left on the other side");
                return Split(spec, all, listed, oneWay, controller);
        }
    }

    private static List<string> Choose(List<string> all, int count, Random random, IReadOnlyCollection<string> keepInMajority)
    {
        // Shuffle the candidates the caller allows first, then the rest, and take the first `count`.
        var preferred = all.Where(n => !keepInMajority.Contains(n)).OrderBy(_ => random.Next()).ToList();
        var others = all.Where(keepInMajority.Contains).OrderBy(_ => random.Next());
        return preferred.Concat(others).Take(count).ToList();
    }

    private static PartitionPlan Split(string spec, List<string> all, List<string> selected, bool oneWay, string? controller)
    {
        var rest = all.Except(selected).ToList();
        var cuts = new List<Cut>();
        foreach (var s in selected)
            foreach (var r in rest)
            {
                cuts.Add(new Cut(s, r));
                if (!oneWay) cuts.Add(new Cut(r, s));
            }
        return new PartitionPlan(spec, oneWay, selected, rest, cuts, controller, Assign(cuts, controller));
    }

    private static PartitionPlan Ring(string spec, List<string> all, Random random, string? controller)
    {
        var n = all.Count;
        if (n < 3)
            throw new ArgumentException($"majorities-ring needs at least 3 nodes, got {n}");
        var ring = all.OrderBy(_ => random.Next()).ToList();
        var majority = n / 2 + 1;
        var before = (majority - 1) / 2;
        var cuts = new List<Cut>();
        for (var i = 0; i < n; i++)
        {
            var hears = Enumerable.Range(i - before, majority).Select(j => ring[((j % n) + n) % n]).ToHashSet();
            cuts.AddRange(ring.Where(other => !hears.Contains(other)).Select(other => new Cut(other, ring[i])));
        }
        return new PartitionPlan(spec, OneWay: false, Selected: ring, Rest: [], cuts, controller, Assign(cuts, controller));
    }

    /// <summary>Each cut becomes a block on one node: on the controller when it is one end, else on the receiver.</summary>
    private static Dictionary<string, IReadOnlyList<BlockedLink>> Assign(List<Cut> cuts, string? controller)
    {
        var perNode = new Dictionary<string, Dictionary<string, BlockDirection>>();
        void Add(string node, string peer, BlockDirection direction)
        {
            if (!perNode.TryGetValue(node, out var peers)) perNode[node] = peers = new();
            peers[peer] = peers.TryGetValue(peer, out var had) && had != direction ? BlockDirection.Both : direction;
        }
        foreach (var cut in cuts)
        {
            if (cut.From == controller) Add(controller, cut.To, BlockDirection.Outbound);
            else Add(cut.To, cut.From, BlockDirection.Inbound);
        }
        return perNode.ToDictionary(
            kv => kv.Key,
            kv => (IReadOnlyList<BlockedLink>)kv.Value.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new BlockedLink(p.Key, p.Value)).ToList());
    }
}
