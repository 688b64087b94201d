using System.Diagnostics;
using Actors.Lab.Nat;

namespace Actors.Lab.Experiments;

/// <summary>
/// Runs a <c>kind = nat-matrix</c> scenario once: builds the namespace Internet with the
/// scenario's nodes on its public network (<see cref="NatWorld"/>), runs the matrix
/// (<see cref="NatMatrix.Run"/>: one call per ordered pair of kinds), records each cell's checks
/// as invariants, tears every namespace down (its veths and iptables rules go with it) and checks
/// that nothing is left, then writes the bundle with the matrix in report.md and report.json.
/// Like <see cref="ExperimentRunner"/>, a plain sequence: the matrix runs on a pool thread and is
/// awaited. Ctrl-C or SIGTERM does not end the process: it cancels the run, which stops between
/// steps and tears everything down (the run then fails, "cancelled"); kill -9 leaves namespaces
/// that the next run removes.
/// </summary>
public sealed class NatMatrixRunner(Scenario scenario, string scenarioText, IReadOnlyList<string> actors, TextWriter log)
{
    /// <summary>Namespace names of a run: <c>labnat{pid}-{host}</c>.</summary>
    public const string Stem = "labnat";

    /// <summary>Null when this machine can build the NAT world; otherwise one line saying why not.</summary>
    public static string? WhyUnavailable() => NatNetwork.WhyUnavailable();

    public async Task<bool> Run(int seed, string bundle, IReadOnlyList<string> reRun, CancellationToken cancel)
    {
        var nat = scenario.Nat ?? throw new InvalidOperationException($"{scenario.Name} is not a nat-matrix scenario");
        Directory.CreateDirectory(bundle);
        var record = new RunRecord();
        var watch = Stopwatch.StartNew();
        NatMatrixResult? result = null;
        var prefix = $"{Stem}{Environment.ProcessId}"; // NatWorld names its namespaces so
        log.WriteLine($"{scenario.Name}: building the NAT world ({string.Join(", ", scenario.Nodes.Select(n => $"{n.Name} {n.Role}"))}) in {bundle}");
        try
        {
            result = await Task.Run(() =>
            {
                using var world = new NatWorld(Stem, actors, Place(scenario.Nodes), Path.Combine(bundle, "logs"), cancel);
                record.Event("runner", "started", $"{world.Nodes.Count} nodes and 6 NATed/public hosts in namespaces {prefix}-* in {watch.Elapsed.TotalSeconds:F1} s");
                record.StartClock("runner", "method-begun", $"{nat.Kinds.Count * nat.Kinds.Count} calls of {nat.CallDuration.TotalSeconds} s: {string.Join(", ", nat.Kinds)}, every ordered pair");
                return NatMatrix.Run(world, nat.Kinds, nat.CallDuration, line =>
                {
                    record.Event("runner", "call", line);
                    log.WriteLine($"  t={record.Now():F1} s {line}");
                }, cancel);
            }, cancel);
            record.MethodEnd = record.Now();
            var wanted = scenario.Checks.Select(c => c.Type == "nat-paths" ? "path" : "udp").ToHashSet();
            foreach (var (name, check, passed, detail) in NatMatrix.Check(result.Cells, nat.MinFrames))
                if (wanted.Contains(check)) record.Result(name, "check", passed, detail);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            record.Result("run", "setup", false, ex is OperationCanceledException ? "cancelled" : ex.Message);
        }
        finally
        {
            // The world is disposed (every process stopped, every namespace deleted) before we look.
            var left = NatNetwork.Existing(prefix);
            record.Result("every namespace, veth and iptables rule removed", "after", left.Count == 0,
                left.Count == 0 ? $"no namespace {prefix}-* left" : $"left behind: {string.Join(", ", left)}");
        }
        var markdown = result is null ? "" : $"## NAT matrix (path and setup time as the caller measured them)\n\n{NatMatrix.Render(result.Cells)}\n" +
            "Expected: a public callee is dialled (direct), a public caller is dialled back (reverse), two cone NATs punch (holepunch), " +
            "a symmetric NAT with another NAT is relayed. Each call's reports: `report.json` → `details`.\n";
        await Bundle.Write(bundle, scenario, scenarioText, seed, [], record, reRun,
            (markdown, result is null ? Array.Empty<object>() : NatMatrix.Json(result.Cells).ToList()));
        foreach (var r in record.Results) log.WriteLine($"  {(r.Passed ? "ok  " : "FAIL")} {r.Phase}: {r.Name}: {r.Detail}");
        if (result is not null) log.WriteLine(NatMatrix.Render(result.Cells));
        log.WriteLine($"{scenario.Name} (seed {seed}): {(record.Passed ? "PASSED" : "FAILED")} in {watch.Elapsed.TotalSeconds:F0} s; bundle {bundle}");
        return record.Passed;
    }

    /// <summary>The scenario's nodes at the world's fixed public addresses: the seed, then rendezvous and relays in order.</summary>
    private static List<NatNode> Place(IReadOnlyList<NodeSpec> nodes)
    {
        int rendezvous = 0, relays = 0;
        return [.. nodes.Select(n => new NatNode(n.Name, n.Role, n.Role switch
        {
            "seed" => NatWorld.Seed,
            "rendezvous" => rendezvous++ == 0 ? NatWorld.Rdv1 : NatWorld.Rdv2,
            _ => relays++ == 0 ? NatWorld.Relay1 : NatWorld.Relay2,
        }))];
    }
}
