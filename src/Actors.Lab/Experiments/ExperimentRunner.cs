using System.Diagnostics;
using System.Text.Json;
using Actors.Lab.Processes;

namespace Actors.Lab.Experiments;

/// <summary>
/// Runs one scenario once: starts its cluster and the lab, the load, checks the steady state
/// (within T), plays the method through the lab's API while sampling every node's figures each
/// second, rolls back, checks the steady state again and every invariant, and writes the bundle.
/// A plain async sequence, not an actor: it owns no state other threads touch except the
/// thread-safe <see cref="RunRecord"/>, and every step is awaited in order with its own bound.
/// </summary>
public sealed class ExperimentRunner(Scenario scenario, string scenarioText, IReadOnlyList<string> actors, TextWriter log)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private const string Secret = "lab-secret";

    /// <summary>Runs with this seed into <paramref name="bundle"/>; true when every probe and check held.</summary>
    public async Task<bool> Run(int seed, string bundle, IReadOnlyList<string> reRun, CancellationToken cancel)
    {
        Directory.CreateDirectory(bundle);
        var record = new RunRecord();
        var plan = FaultPlan.Build(scenario, seed);
        using var cluster = new ScenarioCluster(bundle, actors);
        using var load = new LoadProcesses(cluster, () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), record.Event);
        using var ports = new PortHolds();
        AnnounceLoad? announces = null;
        var watch = Stopwatch.StartNew();
        try
        {
            // ---- start: nodes, the lab, links, load -------------------------------------------------
            log.WriteLine($"{scenario.Name} (seed {seed}): starting {scenario.Nodes.Count} nodes and the lab in {bundle}");
            var users = string.Concat(Enumerable.Range(0, 16).SelectMany(i => new[] { $"caller-{i}:{Secret}\n", $"callee-{i}:{Secret}\n" }));
            var links = new List<(string, int, int)>();
            var seederLinkPort = 0;
            int? seederPort = null;
            if (scenario.Load.Swarm is { SeederLink: { } linkName })
            {
                seederLinkPort = cluster.FreePort();
                seederPort = cluster.FreePort();
                links.Add((linkName, seederLinkPort, seederPort.Value));
            }
            await cluster.Start(scenario.Nodes, links, users, StartTimeout, cancel);
            record.Event("runner", "started", $"{scenario.Nodes.Count} nodes and the lab at {cluster.Lab.Url} in {watch.Elapsed.TotalSeconds:F1} s");
            load.StartWatching();
            if (scenario.Load.Announces is { } a)
            {
                announces = new AnnounceLoad(a, cluster.PortOf, seed);
                announces.Start();
            }
            if (scenario.Load.Swarm is { } swarm)
                await load.PrepareSwarm(swarm, seed, actors, seederLinkPort, cancel, seederPort);
            if (scenario.Load.Calls is { } calls) load.StartCallees(calls, Secret);

            // ---- steady state before ---------------------------------------------------------------
            var probes = new SteadyStateProbes(cluster, announces);
            if (scenario.Load.Calls is { } callLoad)
            {
                await WaitFor(() => load.Callees.All(load.Registrations.ContainsKey), TimeSpan.FromSeconds(60), cancel);
                if (callLoad.ConnectedBeforeMethod)
                {
                    load.StartCallers(callLoad, Secret);
                    if (!await WaitFor(() => load.Callers.All(load.Connected.ContainsKey), TimeSpan.FromSeconds(60), cancel))
                        record.Result("calls connected before the method", "before", false, $"connected: {string.Join(", ", load.Connected.Keys)} of {load.Callers.Count}");
                }
            }
            var before = await probes.HoldWithin(scenario.SteadyState.Probes, scenario.SteadyState.Within, cancel);
            foreach (var (probe, holds, saw) in before) record.Result(probe.Name, "before", holds, saw);
            var steady = before.All(b => b.Holds) && record.Passed;

            // ---- method ----------------------------------------------------------------------------
            if (steady)
            {
                record.StartClock("runner", "method-begun", $"{plan.Count} steps over {scenario.Duration.TotalSeconds} s: {string.Join("; ", plan.Select(p => $"t={p.At.TotalSeconds} {p}"))}");
                using var sampling = new CancellationTokenSource();
                var during = scenario.SteadyState.Probes.Where(p => p.During > 0).ToDictionary(p => p, _ => (Held: 0, Asked: 0));
                var sampler = Sample(cluster, load, announces, probes, during, record, sampling.Token);
                var swarmStarted = scenario.Load.Swarm is null;
                var callsStarted = scenario.Load.Calls is null or { ConnectedBeforeMethod: true };
                var next = 0;
                var applied = new List<FaultStep>();
                // A step due at the very end (a nemesis fault's undo may fall on the duration) is applied too.
                while (record.Now() < scenario.Duration.TotalSeconds || (next < plan.Count && plan[next].At <= scenario.Duration))
                {
                    var now = Math.Min(record.Now(), scenario.Duration.TotalSeconds);
                    if (!swarmStarted && now >= scenario.Load.Swarm!.StartAt.TotalSeconds) { load.StartLeechers(); swarmStarted = true; }
                    if (!callsStarted && now >= scenario.Load.Calls!.StartAt.TotalSeconds) { load.StartCallers(scenario.Load.Calls, Secret); callsStarted = true; }
                    while (next < plan.Count && plan[next].At.TotalSeconds <= now)
                    {
                        var step = plan[next++];
                        if (step.Target == ScenarioFile.BusiestRelay) step = step with { Target = await BusiestRelay(cluster) };
                        // The plan's time is when it was due; what happened is when it was applied (a loaded machine lags).
                        applied.Add(step with { At = TimeSpan.FromSeconds(record.Now()) });
                        // hold-port is the runner's own fault (it takes the port itself); every other goes through the lab.
                        var (ok, answer) = step.Action == "hold-port" ? await HoldPort(cluster, ports, step.Target, cancel) : await cluster.Lab.Apply(step);
                        record.Event("runner", ok ? "fault-applied" : "fault-failed", $"{step}: {Short(answer)}");
                        log.WriteLine($"  t={record.Now():F1} s {step}: {(ok ? "ok" : "FAILED " + Short(answer))}");
                    }
                    await Task.Delay(100, cancel);
                }
                if (!swarmStarted) load.StartLeechers();
                if (!callsStarted) load.StartCallers(scenario.Load.Calls!, Secret);
                record.MethodEnd = record.Now();
                record.FaultWindows.AddRange(FaultPlan.Windows(applied, scenario.Duration));

                // ---- rollbacks --------------------------------------------------------------------
                await Rollback(cluster, ports, applied, record, cancel);

                // ---- steady state after, and the invariants (the sampler keeps sampling) ----------
                var after = await probes.HoldWithin([.. scenario.SteadyState.Probes.Where(p => p.After)], scenario.SteadyState.Within, cancel);
                foreach (var (probe, holds, saw) in after) record.Result(probe.Name, "after", holds, saw);
                foreach (var (probe, (held, asked)) in during)
                {
                    var share = asked == 0 ? 0 : (double)held / asked;
                    record.Result(probe.Name, "during", share >= probe.During, $"held in {held} of {asked} samples ({share:P0}, want ≥ {probe.During:P0})");
                }
                var checks = new InvariantChecks(load, announces, scenario.Load.Announces, applied, record, cluster);
                foreach (var check in scenario.Checks)
                {
                    var (passed, detail) = await checks.Check(check, cancel);
                    record.Result(check.Name, "check", passed, detail);
                }
                sampling.Cancel();
                await sampler;
            }
            else
            {
                record.Event("runner", "not-steady", "the steady state did not hold before the method: no fault was injected");
                await Rollback(cluster, ports, plan, record, cancel);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or HttpRequestException or OperationCanceledException)
        {
            // Cancelled (Ctrl-C): the cluster and the load are stopped below and by the usings, as after any run.
            record.Result("run", "setup", false, ex is OperationCanceledException ? "cancelled" : ex.Message);
        }
        finally
        {
            if (announces is not null) await announces.Stop();
            await load.StopWatching();
            await CollectLabEvents(cluster, record);
            announces?.Dispose();
        }
        await Bundle.Write(bundle, scenario, scenarioText, seed, plan, record, reRun);
        foreach (var r in record.Results) log.WriteLine($"  {(r.Passed ? "ok  " : "FAIL")} {r.Phase}: {r.Name}: {r.Detail}");
        log.WriteLine($"{scenario.Name} (seed {seed}): {(record.Passed ? "PASSED" : "FAILED")} in {watch.Elapsed.TotalSeconds:F0} s; bundle {bundle}");
        return record.Passed;
    }

    private static async Task<(bool Ok, string Answer)> HoldPort(ScenarioCluster cluster, PortHolds ports, string node, CancellationToken cancel)
    {
        int port;
        try { port = cluster.PortOf(node); }
        catch (KeyNotFoundException) { return (false, $"{node} has no service port"); }
        return await ports.Hold(node, port, cluster.Pid(node), TimeSpan.FromSeconds(5), cancel);
    }

    private async Task<string> BusiestRelay(ScenarioCluster cluster)
    {
        var relays = scenario.Nodes.Where(n => n.Role == "relay").Select(n => n.Name).ToList();
        using var status = await cluster.Lab.Get("api/status");
        if (status is null || relays.Count == 0) return relays.FirstOrDefault() ?? "";
        return relays.OrderByDescending(r => SteadyStateProbes.Figure(status, [r], "actors.relay.sessions")).First();
    }

    private static string Short(string text) => text.Length > 200 ? text[..200] : text;

    private static async Task<bool> WaitFor(Func<bool> condition, TimeSpan within, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > within) return false;
            await Task.Delay(200, cancel);
        }
        return true;
    }

    /// <summary>
    /// Every second: each node's status and figures (metrics.csv) and the load's figures; and, in
    /// a loop of its own, the probes checked during the method — a probe that does not answer
    /// within 2 s counts as not holding (a hung tracker is not a healthy one).
    /// </summary>
    private static Task Sample(ScenarioCluster cluster, LoadProcesses load, AnnounceLoad? announces, SteadyStateProbes probes,
        Dictionary<ProbeSpec, (int Held, int Asked)> during, RunRecord record, CancellationToken stop)
    {
        var metrics = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var tick = Task.Delay(1000, stop);
                using (var status = await cluster.Lab.Get("api/status"))
                {
                    if (status is not null)
                    {
                        foreach (var (name, up, clusterUp) in UpSamples(status.RootElement, cluster.Processes()))
                        {
                            record.Sample(name, "up", up);
                            record.Sample(name, "cluster-up", clusterUp);
                        }
                        foreach (var node in status.RootElement.GetProperty("nodes").EnumerateArray())
                        {
                            var name = node.GetProperty("name").GetString()!;
                            foreach (var f in node.GetProperty("figures").EnumerateArray())
                            {
                                if (f.GetProperty("value").ValueKind != JsonValueKind.Number) continue;
                                var tags = f.GetProperty("tags").GetString();
                                record.Sample(name, f.GetProperty("name").GetString() + (string.IsNullOrEmpty(tags) ? "" : "{" + tags + "}"), f.GetProperty("value").GetDouble());
                            }
                        }
                    }
                }
                if (announces is not null)
                {
                    record.Sample("load", "announces.ok", announces.Ok);
                    record.Sample("load", "announces.failed", announces.Failed);
                }
                if (load.Leechers.Count > 0) record.Sample("load", "leechers.complete", load.Completed.Count);
                if (load.Callers.Count > 0) record.Sample("load", "calls.reported", load.Reports.Count(r => r.Role == "caller"));
                try { await tick; } catch (OperationCanceledException) { }
            }
        });
        var probing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && record.MethodEnd == 0 && during.Count > 0)
            {
                var tick = Task.Delay(1000, stop);
                using var status = await cluster.Lab.Get("api/status");
                foreach (var probe in during.Keys.ToList())
                {
                    bool holds;
                    try { holds = (await probes.Ask(probe, status).WaitAsync(TimeSpan.FromSeconds(2))).Holds; }
                    catch (TimeoutException) { holds = false; }
                    if (record.MethodEnd != 0) break;
                    var (held, asked) = during[probe];
                    during[probe] = (held + (holds ? 1 : 0), asked + 1);
                    if (!holds) record.Event("runner", "probe-missed", $"{probe.Name} did not hold at t={record.Now():F1} s");
                }
                try { await tick; } catch (OperationCanceledException) { }
            }
        });
        return Task.WhenAll(metrics, probing);
    }

    /// <summary>
    /// Each node's "up" (1 or 0) for nodes.png and metrics.csv: up when the lab says <c>up</c>, its
    /// process runs (/proc, by the run's manifests) and that process is the one the lab heard from
    /// (its last report came after the process started); and "cluster-up", the lab's word alone.
    /// They differ after a kill -9: the process is gone at once, but the cluster keeps the member up
    /// and reachable until the failure detector notices (3 s of missed heartbeats, 4–5 s on this
    /// machine) — so the lab's word alone drew a killed node up through most of its fault window —
    /// and a process restarted before then is not yet the member the cluster calls up. A node with a
    /// manifest that the lab no longer lists is down in both; a node without one (not started by the
    /// run) is judged by the lab's word.
    /// </summary>
    public static IEnumerable<(string Node, double Up, double ClusterUp)> UpSamples(JsonElement status,
        IReadOnlyDictionary<string, (ProcessState State, long StartedUnixMs)> processes)
    {
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in status.GetProperty("nodes").EnumerateArray())
        {
            var name = node.GetProperty("name").GetString()!;
            listed.Add(name);
            var clusterUp = node.GetProperty("status").GetString() == "up";
            var up = clusterUp;
            if (processes.TryGetValue(name, out var process))
            {
                var heardBefore = node.TryGetProperty("lastReportUnixMs", out var last) && last.ValueKind == JsonValueKind.Number
                    && process.StartedUnixMs > 0 && last.GetInt64() < process.StartedUnixMs;
                up = clusterUp && process.State == ProcessState.Running && !heardBefore;
            }
            yield return (name, up ? 1 : 0, clusterUp ? 1 : 0);
        }
        foreach (var name in processes.Keys.Where(n => !listed.Contains(n)).Order(StringComparer.Ordinal))
            yield return (name, 0, 0);
    }

    /// <summary>
    /// The scenario's rollbacks: heal every partition, resume paused nodes, clear every link's
    /// toxics, restart nodes the plan left dead, release held ports and restart their nodes.
    /// </summary>
    private async Task Rollback(ScenarioCluster cluster, PortHolds ports, IReadOnlyList<FaultStep> plan, RunRecord record, CancellationToken cancel)
    {
        foreach (var rollback in scenario.Rollbacks)
        {
            if (rollback == "release-ports")
            {
                await ReleasePorts(cluster, ports, plan, record, cancel);
                continue;
            }
            var steps = rollback switch
            {
                "heal" => [new FaultStep(TimeSpan.Zero, "heal", "", new Dictionary<string, string>())],
                "resume" => plan.Where(s => s.Action == "pause").Select(s => s.Target).Distinct().Select(t => new FaultStep(TimeSpan.Zero, "resume", t, new Dictionary<string, string>())).ToList(),
                "restart-stopped" => StillStopped(plan).Select(t => new FaultStep(TimeSpan.Zero, "restart", t, new Dictionary<string, string>())).ToList(),
                _ => new List<FaultStep>(),
            };
            if (rollback == "clear-links")
            {
                var (ok, answer) = await cluster.Lab.Post("api/links/reset", null);
                record.Event("runner", ok ? "rollback" : "rollback-failed", $"clear-links: {Short(answer)}");
            }
            foreach (var step in steps)
            {
                var (ok, answer) = await cluster.Lab.Apply(step);
                record.Event("runner", ok ? "rollback" : "rollback-failed", $"{step}: {Short(answer)}");
            }
        }
    }

    /// <summary>
    /// Each held port released, then its node restarted. A node restarted while its port was held
    /// runs a process that must end by itself (the failure policy: exit 1); the port stays held
    /// until it has (at most 30 s), or this restart would end it instead and hide what the policy did.
    /// </summary>
    private static async Task ReleasePorts(ScenarioCluster cluster, PortHolds ports, IReadOnlyList<FaultStep> plan, RunRecord record, CancellationToken cancel)
    {
        foreach (var node in ports.Nodes.ToList())
        {
            var held = plan.ToList().FindLastIndex(s => s.Action == "hold-port" && s.Target == node);
            if (plan.Skip(held + 1).Any(s => s.Action == "restart" && s.Target == node))
            {
                var pidThen = ports.PidThen(node);
                if (!await WaitFor(() => cluster.Pid(node) != pidThen && cluster.State(node) == ProcessState.Gone, TimeSpan.FromSeconds(30), cancel))
                    record.Event("runner", "rollback-waited", $"{node} (pid {cluster.Pid(node)}), started while its port was held, still runs after 30 s");
            }
            record.Event("runner", "rollback", $"release-port {node}: {ports.Release(node)}");
            var step = new FaultStep(TimeSpan.Zero, "restart", node, new Dictionary<string, string>());
            var (ok, answer) = await cluster.Lab.Apply(step);
            record.Event("runner", ok ? "rollback" : "rollback-failed", $"{step}: {Short(answer)}");
        }
    }

    private static IEnumerable<string> StillStopped(IReadOnlyList<FaultStep> plan)
    {
        var stopped = new HashSet<string>();
        foreach (var step in plan)
        {
            if (step.Action is "kill" or "terminate") stopped.Add(step.Target);
            else if (step.Action == "restart") stopped.Remove(step.Target);
        }
        return stopped;
    }

    /// <summary>The lab's own event log (member events, faults, role events) joins the runner's, on the run's clock.</summary>
    private static async Task CollectLabEvents(ScenarioCluster cluster, RunRecord record)
    {
        if (cluster.Lab is null) return;
        using var events = await cluster.Lab.Get("api/events/recent?n=1000");
        if (events is null) return;
        foreach (var e in events.RootElement.EnumerateArray())
        {
            var unixMs = e.GetProperty("unixMs").GetInt64();
            record.Events.Enqueue(new RunEvent(Math.Round(record.At(unixMs), 3), unixMs, e.GetProperty("node").GetString() ?? "",
                "lab:" + e.GetProperty("kind").GetString(), e.GetProperty("text").GetString() ?? ""));
        }
    }
}
