using Akka.Actor;

namespace Actors.Lab.ClusterLinks;

/// <summary>One node's answer to a partition or heal: its state, or why it failed (an error reply, or no reply in time).</summary>
public sealed record NodeLinkResult(string Node, ClusterLinkState? State, string? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// What the lab does with a <see cref="PartitionPlan"/>: sends each node's commands to its
/// <c>/user/cluster-links</c> in the plan's order (the controller last) and heals in the reverse
/// order (the controller first), so that the lab's own requests and replies always get through.
/// Called from an actor, pipe the task's result to Self (never touch actor state in a continuation).
/// </summary>
public static class ClusterLinkClient
{
    public static ActorSelection FaultsOf(ActorSystem system, string node) =>
        system.ActorSelection($"{node.TrimEnd('/')}/user/{ClusterLinkFaults.ActorName}");

    /// <summary>Applies the plan; one result per command sent, in order. Nodes that fail are reported and the rest still get theirs.</summary>
    public static async Task<IReadOnlyList<NodeLinkResult>> ApplyAsync(ActorSystem lab, PartitionPlan plan, TimeSpan timeout)
    {
        var results = new List<NodeLinkResult>();
        foreach (var node in plan.ApplyOrder)
            foreach (var command in plan.CommandsFor(node))
                results.Add(await AskAsync(lab, node, command, timeout));
        return results;
    }

    /// <summary>
    /// Heals every given node (e.g. every member), the controller first. A node that does not answer
    /// in time is reported (it may be down or still cut off from the lab by a plan without a controller).
    /// </summary>
    public static async Task<IReadOnlyList<NodeLinkResult>> HealAsync(ActorSystem lab, IEnumerable<string> nodes, string? controller, TimeSpan timeout)
    {
        var order = nodes.Distinct().OrderBy(n => n == controller ? 0 : 1).ThenBy(n => n, StringComparer.Ordinal).ToList();
        var results = new List<NodeLinkResult>();
        foreach (var node in order)
            results.Add(await AskAsync(lab, node, HealTraffic.All, timeout));
        return results;
    }

    /// <summary>Every node's blocks now (no reply in time: an error result).</summary>
    public static async Task<IReadOnlyList<NodeLinkResult>> StateAsync(ActorSystem lab, IEnumerable<string> nodes, TimeSpan timeout) =>
        await Task.WhenAll(nodes.Distinct().Select(node => AskAsync(lab, node, GetClusterLinkState.Instance, timeout)));

    private static async Task<NodeLinkResult> AskAsync(ActorSystem lab, string node, IClusterLinksMessage request, TimeSpan timeout)
    {
        try
        {
            return await FaultsOf(lab, node).Ask<object>(request, timeout) switch
            {
                ClusterLinkState state => new NodeLinkResult(node, state, null),
                ClusterLinkError error => new NodeLinkResult(node, null, error.Reason),
                var other => new NodeLinkResult(node, null, $"unexpected reply {other.GetType().Name}"),
            };
        }
        catch (AskTimeoutException)
        {
            return new NodeLinkResult(node, null, $"no answer within {timeout.TotalSeconds:0.#} s (is /user/{ClusterLinkFaults.ActorName} running there, is the node up?)");
        }
        catch (Exception e)
        {
            return new NodeLinkResult(node, null, e.Message);
        }
    }
}
