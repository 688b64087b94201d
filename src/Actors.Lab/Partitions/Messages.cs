namespace Actors.Lab.Partitions;

/// <summary>
/// Partition the cluster's links: <paramref name="Spec"/> is Jepsen's node spec (<c>one</c>,
/// <c>minority</c>, <c>majority</c>, <c>majorities-ring</c>) or a list of node names
/// (<c>tracker2,web</c>) cut off from the rest; one-way cuts only the rest's hearing of them.
/// Answered with <see cref="Processes.FaultDone"/> or <see cref="Processes.FaultRefused"/>.
/// </summary>
public sealed record Partition(string Spec, bool OneWay);

/// <summary>Heal every cluster-link block on every member (the lab's own node first).</summary>
public sealed class Heal { public static readonly Heal Instance = new(); private Heal() { } }
