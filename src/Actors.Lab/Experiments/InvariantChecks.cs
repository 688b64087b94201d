using System.Diagnostics;
using Actors.Lab.Processes;

namespace Actors.Lab.Experiments;

/// <summary>
/// The domain invariants (<paramref name="plan"/>: the faults as applied, at the times they were), checked over what happened (the load's records) and the live system
/// (trackers asked again, files hashed). Each is polled until it holds or its "within" runs out,
/// so a slow but correct system passes and a wrong one fails with the first counterexample.
/// <paramref name="cluster"/>: the lab's event log and the nodes' logs (node-exits).
/// </summary>
public sealed class InvariantChecks(LoadProcesses load, AnnounceLoad? announces, AnnounceLoadSpec? announceSpec, IReadOnlyList<FaultStep> plan, RunRecord record,
    ScenarioCluster? cluster = null)
{
    public async Task<(bool Passed, string Detail)> Check(CheckSpec check, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var (passed, detail) = await Once(check);
            if (passed || watch.Elapsed >= check.Within) return (passed, passed ? $"{detail} (after {watch.Elapsed.TotalSeconds:F1} s)" : detail);
            await Task.Delay(500, cancel);
        }
    }

    private async Task<(bool, string)> Once(CheckSpec check) => check.Type switch
    {
        "files-identical" => FilesIdentical(),
        "swarm-completes" => SwarmCompletes(),
        "announces-kept" => await AnnouncesKept(),
        "replicas-converge" => await ReplicasConverge(),
        "calls-survive" => CallsSurvive(check.Limit, check.Limit2),
        "relay-quota" => RelayQuota(check.Limit),
        "callers-registered" => CallersRegistered(),
        "node-exits" => await NodeExits(check),
        _ => (false, $"unknown check {check.Type}"),
    };

    private (bool, string) FilesIdentical()
    {
        var expected = LoadProcesses.Sha256(load.SeedFile);
        var wrong = new List<string>();
        foreach (var leecher in load.Leechers)
        {
            // Only a leecher that said "complete and verified" is hashed: a partial file is not a counterexample yet.
            if (!load.Completed.ContainsKey(leecher)) { wrong.Add($"{leecher} not complete"); continue; }
            var actual = LoadProcesses.Sha256(load.LeecherFile(leecher));
            if (actual != expected) wrong.Add($"{leecher} sha256 {(actual.Length > 0 ? actual[..12] : "(missing)")} ≠ {expected[..12]}");
        }
        return (wrong.Count == 0 && load.Leechers.Count > 0,
            wrong.Count == 0 ? $"{load.Leechers.Count} leechers byte-identical to the seed (sha256 {expected[..12]}…)" : string.Join("; ", wrong));
    }

    private (bool, string) SwarmCompletes()
    {
        var missing = load.Leechers.Where(l => !load.Completed.ContainsKey(l)).ToList();
        var times = load.Completed.Values.Order().Select(ms => RunRecord.F(record.At(ms)));
        return (missing.Count == 0 && load.Leechers.Count > 0,
            missing.Count == 0 ? $"all {load.Leechers.Count} complete at t = {string.Join(", ", times)} s" : $"not complete: {string.Join(", ", missing)}");
    }

    private async Task<(bool, string)> AnnouncesKept()
    {
        if (announces is null || announceSpec is null) return (false, "no announce load");
        var answered = announces.AnsweredAnnounces.ToList();
        var lost = new List<string>();
        var asked = 0;
        foreach (var group in answered.GroupBy(a => a.Torrent))
        {
            if (group.Count() > 199) return (false, $"swarm {group.Key} holds {group.Count()} announces, more than one peer list shows (200): use more torrents");
            foreach (var tracker in announceSpec.Trackers)
            {
                var swarm = await announces.SwarmAt(tracker, group.Key);
                if (swarm is null) continue; // a dead tracker node answers nothing; the others must hold everything
                asked++;
                foreach (var a in group.Where(a => !swarm.Contains(a.Port)))
                    lost.Add($"port {a.Port} (answered by {a.Tracker} at t={RunRecord.F(record.At(a.UnixMs))} s) missing from swarm {a.Torrent} at {tracker}");
            }
        }
        if (asked == 0) return (false, "no tracker node answered");
        return (lost.Count == 0 && answered.Count > 0,
            lost.Count == 0 ? $"all {answered.Count} answered announces ({announces.Failed} unanswered) in their swarms on every live tracker"
                : $"{lost.Count} lost, e.g. {string.Join("; ", lost.Take(3))}");
    }

    private async Task<(bool, string)> ReplicasConverge()
    {
        if (announces is null || announceSpec is null) return (false, "no announce load");
        var differ = new List<string>();
        for (var torrent = 0; torrent < announceSpec.Torrents; torrent++)
        {
            var views = new List<(string Tracker, HashSet<int> Swarm)>();
            foreach (var tracker in announceSpec.Trackers)
                if (await announces.SwarmAt(tracker, torrent) is { } swarm) views.Add((tracker, swarm));
            if (views.Count < announceSpec.Trackers.Count) return (false, $"only {views.Count} of {announceSpec.Trackers.Count} tracker nodes answer");
            for (var i = 1; i < views.Count; i++)
                if (!views[i].Swarm.SetEquals(views[0].Swarm))
                    differ.Add($"swarm {torrent}: {views[0].Tracker} sees {views[0].Swarm.Count} peers, {views[i].Tracker} {views[i].Swarm.Count}");
        }
        return (differ.Count == 0, differ.Count == 0 ? $"every tracker node sees the same {announceSpec.Torrents} swarms" : string.Join("; ", differ.Take(3)));
    }

    private (bool, string) CallsSurvive(double minPathChanges, double maxGapMs)
    {
        var reports = load.Reports.Where(r => r.Role == "caller").ToList();
        var missing = load.Callers.Where(c => reports.All(r => r.Id != c)).ToList();
        if (missing.Count > 0) return (false, $"no call report yet from {string.Join(", ", missing)}");
        var bad = reports.Where(r => r.Result != "completed" || r.PathChanges < minPathChanges || r.GapMs > maxGapMs)
            .Select(r => $"{r.Id}: {r.Result}, path {r.Path}, pathChanges {r.PathChanges}, gap {r.GapMs:F0} ms").ToList();
        return (bad.Count == 0,
            bad.Count == 0 ? string.Join("; ", reports.Select(r => $"{r.Id} completed, pathChanges {r.PathChanges}, gap {r.GapMs:F0} ms"))
                : $"want completed, pathChanges ≥ {minPathChanges}, gap ≤ {maxGapMs} ms: {string.Join("; ", bad)}");
    }

    /// <summary>
    /// No relay session outlives its quota (the relays' <c>--max-duration D</c>): on every relay
    /// node, the relay-sessions gauge (sampled each second through the lab) is never above zero
    /// for longer than D + 1.5 s at a stretch (1 s of sampling, 0.5 s of reporting). Meant for
    /// one relayed call at a time: back-to-back sessions of several calls would look like one.
    /// </summary>
    private (bool, string) RelayQuota(double maxDurationS)
    {
        var samples = record.Samples.Where(s => s.Metric == "actors.relay.sessions").GroupBy(s => s.Node).ToList();
        if (samples.Count == 0) return (false, "no relay-sessions figure was sampled");
        // A quota nothing reached is not a quota that held: no session, nothing checked.
        if (samples.All(relay => relay.All(s => s.Value <= 0))) return (false, "no relay carried a session while sampled: nothing to check");
        var longest = new List<string>();
        var bad = new List<string>();
        foreach (var relay in samples)
        {
            double? since = null;
            var worst = 0.0;
            foreach (var s in relay.OrderBy(s => s.T))
            {
                if (s.Value > 0) { since ??= s.T; worst = Math.Max(worst, s.T - since.Value); }
                else since = null;
            }
            longest.Add($"{relay.Key} {worst:F1} s");
            if (worst > maxDurationS + 1.5) bad.Add($"{relay.Key} held sessions for {worst:F1} s at a stretch");
        }
        return (bad.Count == 0, bad.Count == 0 ? $"longest stretch with sessions open: {string.Join(", ", longest)} (quota {maxDurationS} s)" : string.Join("; ", bad));
    }

    private async Task<(bool, string)> NodeExits(CheckSpec check)
    {
        if (cluster?.Lab is null) return (false, "no lab to ask");
        using var events = await cluster.Lab.Get("api/events/recent?n=1000");
        if (events is null) return (false, "the lab did not answer");
        var exits = events.RootElement.EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "exited")
            .Select(e => (Node: e.GetProperty("node").GetString() ?? "", Text: e.GetProperty("text").GetString() ?? "")).ToList();
        return NodeExits(check, exits, node =>
        {
            try { return File.ReadAllLines(Path.Combine(cluster.Logs, node + ".log")); }
            catch (IOException) { return []; }
        });
    }

    /// <summary>
    /// <c>node-exits</c> over the lab's <c>exited</c> events (each a process the lab started,
    /// <see cref="ProcessFaults.ExitText"/>) and each node's log: every node of the check had a
    /// process exit with <c>code</c>, and its log holds exactly as many lines with <c>says</c> as
    /// such exits — one line per failure, as the failure policy promises, not a stack trace or a
    /// line repeated by a restart loop.
    /// </summary>
    public static (bool, string) NodeExits(CheckSpec check, IEnumerable<(string Node, string Text)> exitEvents, Func<string, IReadOnlyList<string>> logOf)
    {
        var code = (int)check.Limit;
        var exits = exitEvents.ToList();
        var bad = new List<string>();
        var seen = new List<string>();
        foreach (var node in check.Nodes)
        {
            var codes = exits.Where(e => e.Node == node).Select(e => ProcessFaults.ExitCodeOf(e.Text)).ToList();
            var matching = codes.Count(c => c == code);
            var lines = logOf(node).Where(l => l.Contains(check.Says, StringComparison.Ordinal)).ToList();
            if (matching == 0)
                bad.Add($"{node}: no process exited with code {code} (exits seen: {(codes.Count == 0 ? "none" : string.Join(", ", codes.Select(c => c?.ToString() ?? "?")))})");
            else if (lines.Count != matching)
                bad.Add($"{node}: {matching} exit(s) with code {code} but {lines.Count} log line(s) with \"{check.Says}\"{(lines.Count > 0 ? ": " + lines[^1] : "")}");
            else
                seen.Add($"{node} exited {matching}× with code {code}: \"{lines[^1].Trim()}\"");
        }
        return (bad.Count == 0 && check.Nodes.Count > 0, bad.Count == 0 ? string.Join("; ", seen) : string.Join("; ", bad));
    }

    /// <summary>Every caller whose first rendezvous node was faulted registered again after the last fault on it.</summary>
    private (bool, string) CallersRegistered()
    {
        var faults = plan.Where(s => s.Action is "kill" or "pause" or "terminate" or "partition").ToList();
        var pending = new List<string>();
        var seen = new List<string>();
        foreach (var (caller, rendezvous) in load.FirstRendezvous)
        {
            var last = faults.Where(f => f.Target.Split(',').Contains(rendezvous)).Select(f => f.At.TotalSeconds).DefaultIfEmpty(double.NaN).Max();
            if (double.IsNaN(last) || !load.Callees.Contains(caller)) continue;
            var again = load.Registrations.GetValueOrDefault(caller)?.Select(record.At).Where(t => t > last).ToList() ?? [];
            if (again.Count == 0) pending.Add($"{caller} (lost {rendezvous} at t={RunRecord.F(last)} s)");
            else seen.Add($"{caller} again at t={RunRecord.F(again[0])} s");
        }
        if (pending.Count == 0 && seen.Count == 0) return (false, "no caller's rendezvous was faulted: nothing to check");
        return (pending.Count == 0, pending.Count == 0 ? $"registered again: {string.Join(", ", seen)}" : $"not registered again: {string.Join(", ", pending)}");
    }
}
