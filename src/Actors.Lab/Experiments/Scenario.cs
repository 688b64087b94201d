namespace Actors.Lab.Experiments;

/// <summary>
/// One experiment, as read from a scenario file (config/lab/*.conf, <see cref="ScenarioFile"/>):
/// the nodes to start, the load, the steady-state hypothesis, the method (timed faults and/or a
/// seeded nemesis), the rollbacks and the invariant checks. Immutable; times are offsets from the
/// start of the method.
/// </summary>
public sealed record Scenario(
    string Name,
    string Description,
    int Seed,
    TimeSpan Duration,
    IReadOnlyList<NodeSpec> Nodes,
    LoadSpec Load,
    SteadyState SteadyState,
    IReadOnlyList<FaultStep> Method,
    NemesisSpec? Nemesis,
    IReadOnlyList<string> Rollbacks,
    IReadOnlyList<CheckSpec> Checks,
    NatMatrixSpec? Nat = null);

/// <summary>
/// A <c>kind = nat-matrix</c> scenario: its nodes (seed, rendezvous, relays) on the public network of
/// a namespace-built Internet, one caller per host of <paramref name="Kinds"/> (public, cone NAT,
/// symmetric NAT), one call of <paramref name="CallDuration"/> per ordered pair of kinds, each
/// checked against the expected path (<see cref="Nat.NatMatrix"/>). Needs root.
/// </summary>
public sealed record NatMatrixSpec(IReadOnlyList<Nat.NatMatrix.Kind> Kinds, TimeSpan CallDuration, int MinFrames);

/// <summary>A cluster node to start: <c>seed</c>, <c>tracker</c>, <c>web</c>, <c>rendezvous</c> or <c>relay</c>; <paramref name="Options"/> are extra role options.</summary>
public sealed record NodeSpec(string Name, string Role, IReadOnlyList<string> Options);

public sealed record LoadSpec(SwarmLoadSpec? Swarm, CallLoadSpec? Calls, AnnounceLoadSpec? Announces);

/// <summary>
/// A swarm: <paramref name="Seeders"/> seeder processes and <paramref name="Peers"/> leecher
/// processes (one peer each, so the lab can kill one) downloading F bytes of random data, every
/// upload capped at <paramref name="UpCap"/> bytes/s (0: none). Leechers start at
/// <paramref name="StartAt"/>; <paramref name="SeederLink"/>: leechers reach the first seeder
/// through a lab link of that name (toxics apply to it).
/// </summary>
public sealed record SwarmLoadSpec(string Tracker, int Peers, int Seeders, long Size, long PieceLength, long UpCap,
    TimeSpan StartAt, string? SeederLink);

/// <summary>
/// <paramref name="Pairs"/> calls between callers that both listen on nothing (so the rendezvous
/// must relay them), each lasting <paramref name="CallDuration"/>, placed at <paramref name="StartAt"/>
/// or, with <paramref name="ConnectedBeforeMethod"/>, before the method, which then begins once every call has its path.
/// </summary>
public sealed record CallLoadSpec(IReadOnlyList<string> Rendezvous, int Pairs, TimeSpan CallDuration, TimeSpan StartAt, bool ConnectedBeforeMethod);

/// <summary>Announces of fresh peers into <paramref name="Torrents"/> swarms, spread over the trackers, at <paramref name="Rate"/> per second.</summary>
public sealed record AnnounceLoadSpec(IReadOnlyList<string> Trackers, int Rate, int Torrents);

/// <summary>Probes that must hold before the method (within <paramref name="Within"/>), during it, and after the rollbacks (within again).</summary>
public sealed record SteadyState(TimeSpan Within, IReadOnlyList<ProbeSpec> Probes);

/// <summary>
/// A steady-state probe. Types: <c>nodes-up</c> (the lab says every node of <paramref name="Nodes"/> is up),
/// <c>tracker-answers</c> (an announce to each node gets a peer list), <c>figure</c> (the sum of a
/// figure over <paramref name="Nodes"/> between <paramref name="Min"/> and <paramref name="Max"/>).
/// <paramref name="During"/>: the share of samples taken during the method that must hold (0 = not checked during).
/// <paramref name="After"/>: false for a probe that only says when the method may begin (a node the
/// method kills for good is up before, not after).
/// </summary>
public sealed record ProbeSpec(string Name, string Type, IReadOnlyList<string> Nodes, string Figure, double Min, double Max, double During, bool After = true);

/// <summary>
/// A fault at a time: <c>kill</c>, <c>pause</c>, <c>resume</c>, <c>terminate</c>, <c>restart</c>,
/// <c>partition</c> (<paramref name="Target"/> is a node spec), <c>heal</c>, <c>toxic</c> (on link
/// <paramref name="Target"/>, <paramref name="Attributes"/> incl. type and direction), <c>clear</c> (a link's toxics).
/// </summary>
public sealed record FaultStep(TimeSpan At, string Action, string Target, IReadOnlyDictionary<string, string> Attributes)
{
    public override string ToString() =>
        $"{Action}{(Target.Length > 0 ? " " + Target : "")}{(Attributes.Count > 0 ? " " + string.Join(" ", Attributes.Select(a => $"{a.Key}={a.Value}")) : "")}";
}

/// <summary>A random nemesis: every <paramref name="Interval"/> one of <paramref name="Faults"/> on one of <paramref name="Targets"/>, undone after <paramref name="HealAfter"/>; drawn from the run's seed.</summary>
public sealed record NemesisSpec(TimeSpan Interval, TimeSpan HealAfter, IReadOnlyList<string> Faults, IReadOnlyList<string> Targets);

/// <summary>
/// An invariant over what happened. Types: <c>files-identical</c>, <c>swarm-completes</c>,
/// <c>announces-kept</c>, <c>replicas-converge</c>, <c>calls-survive</c>, <c>relay-quota</c>,
/// <c>callers-registered</c>, <c>node-exits</c>. Parameters in <paramref name="Within"/>, <paramref name="Limit"/>
/// (a number whose meaning the type gives), <paramref name="Nodes"/>, <paramref name="Says"/> (text a log line must hold).
/// </summary>
public sealed record CheckSpec(string Name, string Type, TimeSpan Within, double Limit, double Limit2, IReadOnlyList<string> Nodes, string Says = "");
