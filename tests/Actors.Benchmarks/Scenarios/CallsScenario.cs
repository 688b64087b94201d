using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Reporting;
using Actors.Benchmarks.Servers;
using Actors.Calls.Load;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// Calls on loopback: one <c>actors rendezvous</c> and one <c>actors relay</c> process.
/// (a) relay throughput for one call against socat relaying the same bytes (MB/s, ratio);
/// (b) concurrent relayed calls at 50 frames/s each, stepped up until the p99 added latency
/// (relayed p99 − direct-loopback p99, same load, same run) exceeds 10 ms, and the same steps
/// through socat with a process per call;
/// (c) call setup time per path, from the callers' own JSON reports.
/// </summary>
public sealed class CallsScenario(BenchOptions options)
{
    private const double LatencyBudgetMs = 10;
    private const string Secret = "bench-secret";
    private static readonly int[] Steps = [50, 100, 200, 400, 800, 1600];
    /// <summary>The direct pairs' steps go on to the issue's goal of 5,000 calls.</summary>
    private static readonly int[] DirectSteps = [200, 400, 800, 1600, 3200, 5000];
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);

    private int _rendezvousPort;
    private RelayedCallLoad _load = null!;

    public async Task<bool> RunAsync(CancellationToken cancel)
    {
        Machine.PrintHeader("calls", options.Duration, options.Rounds);
        var socat = CommandRunner.Which("socat") ?? throw new SetupException("socat not installed (apt-get install -y socat)");
        var actors = await ActorsServer.LocateAsync(options.ActorsDll, cancel);
        if (actors.ActorsDll is null) throw new SetupException("actors.dll not available; pass --actors PATH");
        using var temp = TempDirectory.Create("actors-bench-calls-");
        var users = Path.Combine(temp.Path, "users.txt");
        var maxCalls = Math.Min(options.MaxCalls, Steps[^1]);
        // Every call uses fresh identities; the refining step needs at most maxCalls more, the throughput rounds one each.
        File.WriteAllLines(users, RelayedCallLoad.Identities("u", RelayedCallLoad.IdentitiesFor(Steps.Where(s => s <= maxCalls), maxCalls + 2 * options.Rounds))
            .Select(id => $"{id}:{Secret}").Concat(["setup-pub:" + Secret, "setup-a:" + Secret, "setup-b:" + Secret, "setup-c:" + Secret, "setup-d:" + Secret]));

        ChildProcess Actors(string name, string[] args) => ChildProcess.Start(name, "dotnet", [actors.ActorsDll, .. args], Path.GetDirectoryName(actors.ActorsDll));
        _rendezvousPort = Ports.FindFree();
        int relayPort = Ports.FindFree(), rdvCluster = Ports.FindFree(), relayCluster = Ports.FindFree();
        // The setup-time callers place calls back to back: lift the per-connection call rate limit.
        var rendezvousConf = Path.Combine(temp.Path, "rendezvous.conf");
        File.WriteAllText(rendezvousConf, "actors.rendezvous.call-burst = 1000\n");
        using var rendezvous = Actors("rendezvous", ["rendezvous", "--host", "127.0.0.1", "--port", $"{_rendezvousPort}", "--users", users, "--config", rendezvousConf,
            "--cluster-host", "127.0.0.1", "--cluster-port", $"{rdvCluster}", "--name", "rdv"]);
        using var relay = Actors("relay", ["relay", "--host", "127.0.0.1", "--public-host", "127.0.0.1", "--port", $"{relayPort}",
            "--max-sessions", $"{maxCalls + 50}", "--max-bytes", "1000 GiB", "--cluster-host", "127.0.0.1", "--cluster-port", $"{relayCluster}",
            "--seed", $"127.0.0.1:{rdvCluster}", "--name", "relay"]);
        foreach (var (port, process) in new[] { (_rendezvousPort, rendezvous), (relayPort, relay) })
            if (await Ports.WaitUntilListeningAsync(port, process, TimeSpan.FromSeconds(30), cancel) is { } why)
                throw new SetupException($"{process.Name} did not start: {why}\n{process.RecentOutput}");
        _load = new RelayedCallLoad(new IPEndPoint(IPAddress.Loopback, _rendezvousPort), Secret, "u");
        await _load.AwaitRelayAsync(TimeSpan.FromSeconds(30), cancel);

        var table = new ResultTable("measurement", "ours", "reference", "ratio / note");
        await ThroughputAsync(socat, table, cancel);
        var clean = await ConcurrencyAsync(socat, maxCalls, table, cancel);
        // For the setup times' second unreachable pair: protocol version 1, never asked to punch.
        var noPunchConf = Path.Combine(temp.Path, "no-punch.conf");
        File.WriteAllText(noPunchConf, "actors.caller.hole-punch = off\n");
        clean &= await SetupTimesAsync(Actors, noPunchConf, table, cancel);
        Console.WriteLine();
        table.Print();
        return clean;
    }

    // ---- (a) throughput -------------------------------------------------------------------

    private async Task ThroughputAsync(string socat, ResultTable table, CancellationToken cancel)
    {
        var bytes = (long)options.SizeMiB << 20;
        Console.WriteLine($"(a) throughput: {options.SizeMiB} MiB one way through one relayed call, and through socat (TCP-LISTEN → TCP), {options.Rounds} rounds");
        List<double> ours = [], theirs = [];
        for (var round = 1; round <= options.Rounds; round++)
        {
            // Alternate who goes first.
            foreach (var who in round % 2 == 1 ? new[] { "ours", "socat" } : ["socat", "ours"])
            {
                var mbs = who == "ours" ? await RelayThroughputAsync(bytes, cancel) : await SocatThroughputAsync(socat, bytes, cancel);
                (who == "ours" ? ours : theirs).Add(mbs);
                Console.WriteLine($"  round {round} {who,-5} {mbs,8:F0} MB/s");
            }
        }
        double o = Stats.Median(ours), s = Stats.Median(theirs);
        table.Add("relay throughput, one call, MB/s (median)", $"{o:F0}", $"socat {s:F0}", $"ours/socat {o / s:F2}");
    }

    private async Task<double> RelayThroughputAsync(long bytes, CancellationToken cancel)
    {
        var (a, b) = await _load.CallAsync(cancel);
        using (a)
        using (b)
            return await TransferAsync(a.GetStream(), b.GetStream(), bytes, cancel);
    }

    private static async Task<double> SocatThroughputAsync(string socat, long bytes, CancellationToken cancel)
    {
        using var sink = new TcpListener(IPAddress.Loopback, 0);
        sink.Start();
        var front = Ports.FindFree();
        using var relay = ChildProcess.Start("socat", socat, [$"TCP-LISTEN:{front},bind=127.0.0.1,reuseaddr", $"TCP:127.0.0.1:{((IPEndPoint)sink.LocalEndpoint).Port}"]);
        // socat without fork relays exactly one connection: no probing connect, retry until it listens.
        var client = new TcpClient();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, front, cancel);
                break;
            }
            catch (SocketException) when (attempt < 100 && !relay.HasExited)
            {
                client.Dispose();
                client = new TcpClient();
                await Task.Delay(100, cancel);
            }
        }
        using var connected = client;
        using var server = await sink.AcceptTcpClientAsync(cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancel);
        return await TransferAsync(connected.GetStream(), server.GetStream(), bytes, cancel);
    }

    private static async Task<double> TransferAsync(Stream from, Stream to, long total, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        var watch = Stopwatch.StartNew();
        var writer = Task.Run(async () =>
        {
            var chunk = new byte[128 * 1024];
            for (long sent = 0; sent < total; sent += chunk.Length) await from.WriteAsync(chunk, timeout.Token);
        }, timeout.Token);
        var buffer = new byte[256 * 1024];
        for (long received = 0; received < total;)
        {
            var n = await to.ReadAsync(buffer, timeout.Token);
            if (n == 0) throw new IOException($"closed after {received} of {total} bytes");
            received += n;
        }
        await writer;
        return total / watch.Elapsed.TotalSeconds / 1e6;
    }

    // ---- (b) concurrent calls -----------------------------------------------------------

    private async Task<bool> ConcurrencyAsync(string socat, int maxCalls, ResultTable table, CancellationToken cancel)
    {
        Console.WriteLine($"(b) concurrent relayed calls, {MediaShape.Voice.FramesPerSecond} frames/s of {MediaShape.Voice.FrameBytes} B each way per call; per step: the same load over " +
                          $"direct loopback pairs (baseline), then through the relay; {WarmUp.TotalSeconds:F0} s warm-up + {options.Duration.TotalSeconds:F0} s measured; " +
                          "then the same steps through socat (a process per call, in C)");
        var machine = await DirectHeldCallsAsync(cancel);
        var ours = await HeldCallsAsync("ours", maxCalls, (calls, ct) => _load.StepAsync(calls, MediaShape.Voice, WarmUp, options.Duration, ct), cancel);
        var theirs = await SocatHeldCallsAsync(socat, maxCalls, cancel);
        string Held(CallsHeld h) => h.Calls?.ToString(CultureInfo.InvariantCulture) ?? "< " + Steps[0];
        var note = (ours.Calls, theirs.Calls) is ({ } o, { } t) ? $"ours/socat {(double)o / t:F2}" : "";
        // Each side's note: the step that broke it, or that it held the largest step measured.
        note += ours.Calls == maxCalls ? $"; ours held the step bound {maxCalls}" : ours.Over != "" ? $"; ours at {ours.Over}" : "";
        note += theirs.Calls == maxCalls ? $"; socat held the step bound {maxCalls}" : theirs.Over != "" ? $"; socat at {theirs.Over}" : "";
        table.Add("relayed calls at 50 frames/s, p99 added < 10 ms", Held(ours), "socat " + Held(theirs), note.TrimStart(';', ' '));
        table.Add("calls over direct loopback pairs (no relay), p99 < 10 ms", "", Held(machine), "the load generator and this machine alone" + (machine.Over != "" ? $"; at {machine.Over}" : ""));
        return ours.Clean && theirs.Clean;
    }

    /// <summary>
    /// The ceiling of any relay measured here: the same load over direct loopback pairs, no relay,
    /// stepped up (through <see cref="DirectSteps"/>) until its own p99 exceeds the budget. The
    /// load generator shares the 2 cores with the relay it measures.
    /// </summary>
    private async Task<CallsHeld> DirectHeldCallsAsync(CancellationToken cancel)
    {
        Console.WriteLine("  direct pairs alone (no relay):");
        Console.WriteLine($"  {"calls",6} {"p50",9} {"p99",9} {"delivered",10}");
        int? held = null;
        foreach (var calls in DirectSteps)
        {
            var result = await RelayedCallLoad.DirectAsync(calls, MediaShape.Voice, WarmUp, options.Duration, cancel);
            Console.WriteLine($"  {calls,6} {result.P50Ms,7:F2}ms {result.P99Ms,7:F2}ms {result.DeliveredRatio,10:P2}");
            if (result.P99Ms > LatencyBudgetMs || result.DeliveredRatio < 0.99)
                return new CallsHeld(held, $"{calls} calls: p99 {result.P99Ms:F1} ms, delivered {result.DeliveredRatio:P1}", Clean: true);
            held = calls;
        }
        return new CallsHeld(held, "", Clean: true);
    }

    /// <summary>The most calls a relay held within the latency budget, and the step that broke it.</summary>
    private sealed record CallsHeld(int? Calls, string Over, bool Clean);

    /// <summary>
    /// Steps up through <see cref="Steps"/> until the added p99 exceeds the budget or frames are
    /// lost, then tries once halfway between the last step that held and that one.
    /// </summary>
    private async Task<CallsHeld> HeldCallsAsync(string who, int maxCalls, Func<int, CancellationToken, Task<StepResult>> step, CancellationToken cancel)
    {
        Console.WriteLine($"  {who}:");
        Console.WriteLine($"  {"calls",6} {"base p50",9} {"base p99",9} {"relay p50",10} {"relay p99",10} {"added p99",10} {"delivered",10}");
        int? carried = null;
        string over = "";
        var steps = new Queue<int>(Steps.Where(s => s <= maxCalls));
        var refined = false;
        while (steps.TryDequeue(out var calls))
        {
            StepResult result;
            try
            {
                result = await step(calls, cancel);
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or SocketException or TimeoutException)
            {
                Console.WriteLine($"  {calls,6} could not set up {calls} relayed calls: {e.Message}");
                return new CallsHeld(carried, $"{calls} calls: not set up", Clean: false);
            }
            var (baseline, relayed) = (result.Direct, result.Relayed);
            var added = relayed.P99Ms - baseline.P99Ms;
            Console.WriteLine($"  {calls,6} {baseline.P50Ms,7:F2}ms {baseline.P99Ms,7:F2}ms {relayed.P50Ms,8:F2}ms {relayed.P99Ms,8:F2}ms {added,8:F2}ms {relayed.DeliveredRatio,10:P2}");
            if (added > LatencyBudgetMs || relayed.DeliveredRatio < 0.99)
            {
                over = $"{calls} calls: added p99 {added:F1} ms, delivered {relayed.DeliveredRatio:P1}";
                // Over budget: try once halfway between the last step that held and this one.
                if (refined || carried is not { } held || calls - held < 20) break;
                refined = true;
                steps.Clear();
                steps.Enqueue((held + calls) / 2);
                await Task.Delay(1000, cancel);
                continue;
            }
            carried = calls;
            await Task.Delay(1000, cancel); // the relay closes the last step's sessions
        }
        return new CallsHeld(carried, over, Clean: true);
    }

    /// <summary>
    /// The same steps through <c>socat TCP-LISTEN:…,fork</c>: one socat process per call copying
    /// between the caller's connection and the callee's (a sink we accept from), with poll and
    /// read/write in C: the reference for our relay.
    /// </summary>
    private async Task<CallsHeld> SocatHeldCallsAsync(string socat, int maxCalls, CancellationToken cancel)
    {
        using var sink = new TcpListener(IPAddress.Loopback, 0);
        sink.Start(maxCalls);
        var front = Ports.FindFree();
        using var relay = ChildProcess.Start("socat", socat, [$"TCP-LISTEN:{front},bind=127.0.0.1,reuseaddr,fork,backlog=128,nodelay",
            $"TCP:127.0.0.1:{((IPEndPoint)sink.LocalEndpoint).Port},nodelay"]);
        if (await Ports.WaitUntilListeningAsync(front, relay, TimeSpan.FromSeconds(10), cancel) is { } why)
            throw new SetupException($"socat did not start: {why}\n{relay.RecentOutput}");
        // The probe connection above made socat fork a child that dials the sink: take it and let both go.
        using (var probe = await sink.AcceptTcpClientAsync(cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancel)) { }

        return await HeldCallsAsync("socat", maxCalls, (calls, ct) => RelayedCallLoad.StepAsync(calls, MediaShape.Voice, WarmUp, options.Duration,
            (n, c) => RelayedCallLoad.PairsAsync(n, new IPEndPoint(IPAddress.Loopback, front), sink, c), ct), cancel);
    }

    // ---- (c) setup time per path ------------------------------------------------------

    private async Task<bool> SetupTimesAsync(Func<string, string[], ChildProcess> actors, string noPunchConfig, ResultTable table, CancellationToken cancel)
    {
        const int calls = 10;
        Console.WriteLine($"(c) call setup (placing the call → media flowing, the caller's setupMs), {calls} calls per path, warm processes: " +
                          "setup-pub listens (reachable), setup-a and setup-b do not (so they try a hole punch before the relay), " +
                          "setup-c and setup-d do not either and have hole punching off (straight to the relay)");
        ChildProcess Caller(string id, bool listen, bool punch = true) => actors(id, ["caller", "--id", id, "--secret", Secret, "--rendezvous", $"127.0.0.1:{_rendezvousPort}",
            "--listen", listen ? "0" : "off", "--listen-host", "127.0.0.1", "--auto-answer", "--duration", "0.3", .. punch ? Array.Empty<string>() : ["--config", noPunchConfig]]);
        using var pub = Caller("setup-pub", listen: true);
        using var a = Caller("setup-a", listen: false);
        using var b = Caller("setup-b", listen: false);
        using var c = Caller("setup-c", listen: false, punch: false);
        using var d = Caller("setup-d", listen: false, punch: false);
        foreach (var p in new[] { pub, a, b, c, d })
            await WaitForAsync(p, o => o.Contains("reachable:", StringComparison.Ordinal), cancel);
        var clean = true;
        // Two unreachable callers that may punch: three simultaneous-open attempts, then the relay.
        // On loopback an attempt mostly fails (a SYN that arrives before the other side dials is
        // answered with a reset, where a NAT would drop it), so most calls end on the relay and a
        // few on a punched path: both are what such callers get.
        foreach (var (label, paths, from, to) in new[]
                 {
                     ("direct", new[] { "direct" }, a, "setup-pub"), ("reverse", ["reverse"], pub, "setup-a"),
                     ("unreachable pair (punch, else relay)", ["relay", "holepunch"], a, "setup-b"), ("relay, hole punching off", ["relay"], c, "setup-d"),
                 })
        {
            var setups = new List<double>();
            var punches = new List<double>();
            var ended = new SortedDictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < calls + 1; i++) // the first call per pair warms up (JIT) and is not counted
            {
                var before = Reports(from).Count;
                from.WriteLine($"/call {to}");
                await WaitForAsync(from, _ => Reports(from).Count > before, cancel);
                var report = Reports(from)[before];
                var path = report.GetProperty("path").GetString() ?? "";
                if (!paths.Contains(path) || report.GetProperty("result").GetString() != "completed")
                {
                    Console.WriteLine($"  {label}: unexpected report {report}");
                    clean = false;
                    break;
                }
                if (i > 0)
                {
                    ended[path] = ended.GetValueOrDefault(path) + 1;
                    setups.Add(report.GetProperty("setupMs").GetDouble());
                    punches.Add(report.TryGetProperty("punchAttempts", out var attempts) && attempts.ValueKind == JsonValueKind.Number ? attempts.GetDouble() : 0);
                }
                await Task.Delay(200, cancel); // the callee's side of the call ends too
            }
            if (setups.Count == 0) continue;
            setups.Sort();
            var punched = $"hole-punch dials {Stats.Median(punches):F0} (median)" +
                          (paths.Length > 1 ? "; ended on " + string.Join(", ", ended.Select(e => $"{e.Key} {e.Value}")) : "");
            Console.WriteLine($"  {label,-34} median {Stats.Median(setups),7:F1} ms  min {setups[0],7:F1}  max {setups[^1],7:F1}  {punched}");
            table.Add($"call setup, {label}, ms (median of {setups.Count})", $"{Stats.Median(setups):F1}", "", $"min {setups[0]:F1}, max {setups[^1]:F1}; {punched}");
        }
        return clean;
    }

    private static List<JsonElement> Reports(ChildProcess caller) =>
        [.. caller.StandardOutput.Split('\n').Where(l => l.StartsWith('{') && l.Contains("\"role\":\"caller\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private static async Task WaitForAsync(ChildProcess process, Func<string, bool> done, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        while (!done(process.StandardOutput))
        {
            if (process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(30))
                throw new SetupException($"{process.Name}: {(process.HasExited ? "exited" : "timed out")}\n{process.RecentOutput}");
            await Task.Delay(50, cancel);
        }
    }
}
