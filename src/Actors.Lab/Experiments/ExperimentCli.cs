using System.Globalization;
using System.Reflection;
using Actors.Net.Configuration;

namespace Actors.Lab.Experiments;

/// <summary>
/// <c>actors lab run FILE [--repeat N] [--seed S] [--out DIR]</c>: runs a scenario N times (seeds
/// S, S+1, …), one bundle each under DIR/&lt;scenario&gt;/&lt;timestamp&gt;/; exit 0 when every check of
/// every run held, 1 otherwise (the failed checks named; or, for a <c>kind = nat-matrix</c>
/// scenario, one line saying why this machine cannot build network namespaces), 2 for a bad
/// scenario file. A nat-matrix scenario runs in <see cref="NatMatrixRunner"/>, any other in
/// <see cref="ExperimentRunner"/>.
/// </summary>
public static class ExperimentCli
{
    public const string DefaultOut = "lab-runs";

    public static async Task<int> Run(string file, int repeat, int? seed, string? outDir, TextWriter output, CancellationToken cancel)
    {
        Scenario scenario;
        string text;
        try
        {
            scenario = ScenarioFile.Load(file);
            text = await File.ReadAllTextAsync(file, cancel);
        }
        catch (SettingsException ex)
        {
            Console.Error.WriteLine($"actors lab run: {file}: {ex.Message}");
            return 2;
        }
        if (scenario.Nat is not null && NatMatrixRunner.WhyUnavailable() is { } why)
        {
            Console.Error.WriteLine($"actors lab run: {scenario.Name} builds network namespaces and cannot run here: {why}");
            return 1;
        }
        var actors = ActorsCommand();
        var failures = new List<string>();
        using var signals = new SignalCancellation(cancel, output, $"actors lab run {scenario.Name}");
        cancel = signals.Token;
        for (var i = 0; i < repeat && !signals.Signalled; i++)
        {
            var runSeed = (seed ?? scenario.Seed) + i;
            var bundle = BundleDirectory(outDir ?? DefaultOut, scenario.Name);
            var passed = scenario.Nat is null
                ? await new ExperimentRunner(scenario, text, actors, output).Run(runSeed, bundle, actors, cancel)
                : await new NatMatrixRunner(scenario, text, actors, output).Run(runSeed, bundle, actors, cancel);
            if (!passed)
            {
                var report = Path.Combine(bundle, "report.json");
                var failed = File.Exists(report)
                    ? string.Join("; ", System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(report, CancellationToken.None)).RootElement.GetProperty("failed").EnumerateArray().Select(f => f.GetString()))
                    : "unknown";
                failures.Add($"seed {runSeed}: {failed}");
            }
        }
        if (failures.Count == 0)
        {
            output.WriteLine($"{scenario.Name}: every check held in {repeat} run(s)");
            return 0;
        }
        foreach (var f in failures) Console.Error.WriteLine($"actors lab run: {scenario.Name} FAILED ({f})");
        return 1;
    }

    private const int PeersPerProcess = 1000;

    /// <summary>
    /// Leecher processes of <c>actors lab swarm</c> when <c>--processes</c> is not given: one per
    /// 1,000 peers. On 2 cores, 1,000 peers of an 8 MiB swarm completed in 85–94 s in one process,
    /// 124 s in two and 176–207 s in four (one per 250, the old default), with half the CPU per
    /// peer in one (0.15–0.17 s against 0.37–0.42): every process adds runtime threads, GC heaps and a
    /// connection budget of its own on the same cores.
    /// </summary>
    public static int DefaultProcesses(int peers) => Math.Max(1, (peers + PeersPerProcess - 1) / PeersPerProcess);

    /// <summary><c>actors lab swarm</c>: one swarm measured against the Kumar–Ross bound; exit 0 when every peer completed.</summary>
    public static async Task<int> Swarm(int peers, int seeders, string size, string upCap, int processes, string? outDir, TextWriter output, CancellationToken cancel,
        bool superSeed = false, int seed = 1)
    {
        if (peers is < 1 or > 20_000 || seeders is < 1 or > 100)
        {
            Console.Error.WriteLine("actors lab swarm: --peers 1..20000, --seeders 1..100");
            return 2;
        }
        if (Size(size) is not { } bytes || bytes < 1 || Size(upCap) is not { } cap)
        {
            Console.Error.WriteLine($"actors lab swarm: --size and --up-cap take sizes such as 8M or 256K (got '{size}', '{upCap}')");
            return 2;
        }
        if (processes <= 0) processes = DefaultProcesses(peers);
        var bundle = BundleDirectory(outDir ?? DefaultOut, $"swarm-n{peers}");
        using var signals = new SignalCancellation(cancel, output, "actors lab swarm");
        try
        {
            var summary = await new SwarmExperiment(peers, seeders, bytes, cap, Math.Min(processes, peers), output) { SuperSeed = superSeed, Seed = seed }.Run(bundle, ActorsCommand(), signals.Token);
            return summary.Completed == peers ? 0 : 1;
        }
        catch (OperationCanceledException) when (signals.Signalled)
        {
            Console.Error.WriteLine($"actors lab swarm: cancelled; every process it started was stopped ({bundle})");
            return 1;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            Console.Error.WriteLine($"actors lab swarm: {e.Message} ({bundle})");
            return 1;
        }
    }

    /// <summary><c>actors lab calls</c>: concurrent relayed calls against added latency; exit 0 when every step was measured.</summary>
    public static async Task<int> Calls(string steps, int frameRate, int frameSize, double stepSeconds, string? outDir, TextWriter output, CancellationToken cancel)
    {
        if (Steps(steps) is not { } parsed)
        {
            Console.Error.WriteLine($"actors lab calls: --steps takes concurrent calls 1..{MaxCallsPerStep}, comma-separated, e.g. 50,100,200,400 (got '{steps}')");
            return 2;
        }
        if (frameRate is < 1 or > 1000 || frameSize is < 16 or > 65536 || stepSeconds is not (> 0 and <= 600))
        {
            Console.Error.WriteLine("actors lab calls: --frame-rate 1..1000, --frame-size 16..65536, --step-seconds above 0, at most 600");
            return 2;
        }
        var bundle = BundleDirectory(outDir ?? DefaultOut, "calls");
        using var signals = new SignalCancellation(cancel, output, "actors lab calls");
        try
        {
            var summary = await new CallsExperiment(parsed, frameRate, frameSize, stepSeconds, output).Run(bundle, ActorsCommand(), signals.Token);
            return summary.Error is null ? 0 : 1;
        }
        catch (OperationCanceledException) when (signals.Signalled)
        {
            Console.Error.WriteLine($"actors lab calls: cancelled; every process it started was stopped ({bundle})");
            return 1;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            Console.Error.WriteLine($"actors lab calls: {e.Message} ({bundle})");
            return 1;
        }
    }

    public const int MaxCallsPerStep = 5000;

    /// <summary>"50,100,200": concurrent calls per step, each 1..<see cref="MaxCallsPerStep"/>; null when not that.</summary>
    public static IReadOnlyList<int>? Steps(string text)
    {
        var steps = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > MaxCallsPerStep) return null;
            steps.Add(n);
        }
        return steps.Count > 0 ? steps : null;
    }

    /// <summary>"8M", "256K", "1G", "4096" (bytes); null when not a size.</summary>
    public static long? Size(string text)
    {
        var t = text.Trim().ToUpperInvariant().TrimEnd('B').TrimEnd('I');
        var multiplier = t.EndsWith('K') ? 1L << 10 : t.EndsWith('M') ? 1L << 20 : t.EndsWith('G') ? 1L << 30 : 1;
        if (multiplier > 1) t = t[..^1];
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 && value * multiplier < long.MaxValue
            ? (long)(value * multiplier) : null;
    }

    /// <summary>DIR/scenario/yyyyMMdd-HHmmss (a suffix when two runs start in the same second).</summary>
    public static string BundleDirectory(string root, string scenario)
    {
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var dir = Path.GetFullPath(Path.Combine(root, scenario, stamp));
        for (var n = 2; Directory.Exists(dir); n++) dir = Path.GetFullPath(Path.Combine(root, scenario, $"{stamp}-{n}"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>How to start the actors binary that runs us: "dotnet actors.dll" or the apphost.</summary>
    public static IReadOnlyList<string> ActorsCommand()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var entry = Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && !string.IsNullOrEmpty(entry) ? [process, entry] : [process];
    }
}
