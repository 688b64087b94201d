namespace Actors.Lab.ClusterLinks;

/// <summary>Marks the messages of this folder that cross nodes; bound to <see cref="ClusterLinksSerializer"/> in config/cluster.conf.</summary>
public interface IClusterLinksMessage;

/// <summary>Which traffic of this node a block drops, seen from the node that applies it.</summary>
public enum BlockDirection
{
    /// <summary>Messages this node sends to the address are dropped.</summary>
    Outbound,
    /// <summary>Messages this node receives from the address are dropped.</summary>
    Inbound,
    /// <summary>Both.</summary>
    Both,
}

// The protocol of ClusterLinkFaults (one per node, at /user/cluster-links). Every request is
// answered with ClusterLinkState (what this node now drops) or ClusterLinkError. These messages
// cross nodes (the lab asks each node's actor), with ClusterLinksSerializer's JSON wire shape.

/// <summary>
/// Drop this node's Akka.Remote traffic to and/or from <paramref name="Addresses"/> (full node
/// addresses, e.g. "akka.trttl.tcp://actors@127.0.0.1:4053"; the protocol and system part are
/// ignored, host:port decide). Adds to what is already blocked (directions are merged).
/// </summary>
public sealed record BlockTraffic(IReadOnlyList<string> Addresses, BlockDirection Direction) : IClusterLinksMessage;

/// <summary>Stop dropping traffic to and from <paramref name="Addresses"/>; an empty list heals everything this node blocks.</summary>
public sealed record HealTraffic(IReadOnlyList<string> Addresses) : IClusterLinksMessage
{
    public static readonly HealTraffic All = new([]);
}

/// <summary>Answered with <see cref="ClusterLinkState"/>.</summary>
public sealed class GetClusterLinkState : IClusterLinksMessage
{
    public static readonly GetClusterLinkState Instance = new();
    private GetClusterLinkState() { }
}

/// <summary>One blocked peer address and which way its traffic is dropped.</summary>
public sealed record BlockedLink(string Address, BlockDirection Direction);

/// <summary>What this node drops now. <paramref name="Node"/> is this node's own address. Also published on the node's EventStream after every change.</summary>
public sealed record ClusterLinkState(string Node, IReadOnlyList<BlockedLink> Blocked) : IClusterLinksMessage;

/// <summary>A request failed; what was applied before is unchanged (or, for a partly applied request, listed in the next <see cref="ClusterLinkState"/>).</summary>
public sealed record ClusterLinkError(string Node, string Reason) : IClusterLinksMessage;
