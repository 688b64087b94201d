using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// One server under test ("target") within one scenario run: how to start it, whether it came
/// up, the samples measured from it and anything that went wrong. A target that is unavailable
/// is reported as such and skipped; the other targets still run.
/// </summary>
public sealed class TargetRun(string name, Func<CancellationToken, Task<RunningServer>> start) : IDisposable
{
    public string Name { get; } = name;

    public RunningServer? Server { get; private set; }

    public string? Unavailable { get; private set; }

    public bool IsAvailable => Server is not null;

    /// <summary>Problems seen while measuring (errors in a wrk run, a wrong download size).</summary>
    public List<string> Problems { get; } = [];

    public Dictionary<string, List<double>> Samples { get; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            Server = await start(cancellationToken);
        }
        catch (ServerUnavailableException e)
        {
            Unavailable = e.Message;
        }
    }

    public void MarkUnavailable(string reason)
    {
        Server?.Dispose();
        Server = null;
        Unavailable = reason;
    }

    public void Flag(string problem) => Problems.Add(problem);

    public void AddSample(string metric, double value)
    {
        if (!Samples.TryGetValue(metric, out var values))
        {
            Samples[metric] = values = [];
        }
        values.Add(value);
    }

    public double? Median(string metric) =>
        Samples.TryGetValue(metric, out var values) && values.Count > 0 ? Reporting.Stats.Median(values) : null;

    public void Dispose() => Server?.Dispose();
}

/// <summary>Helpers shared by the scenarios for starting targets and alternating over them.</summary>
public static class Targets
{
    /// <summary>
    /// Starts targets one after another: starting them together would have their JIT and
    /// start-up compete for the two cores and make slow starters look dead.
    /// </summary>
    public static async Task StartAllAsync(IReadOnlyList<TargetRun> runs, CancellationToken cancellationToken)
    {
        foreach (var run in runs)
        {
            Console.Write($"starting {run.Name}... ");
            await run.StartAsync(cancellationToken);
            Console.WriteLine(run.IsAvailable ? $"up at {string.Join(", ", run.Server!.BaseUrls)}" : $"not available: {run.Unavailable}");
        }
    }

    /// <summary>
    /// Runs one measurement per available target per round. The order rotates each round so no
    /// server always goes first (right after a quiet period) or last.
    /// </summary>
    public static async Task AlternateAsync(
        IReadOnlyList<TargetRun> runs, int rounds, string label,
        Func<TargetRun, int, Task> measure, CancellationToken cancellationToken)
    {
        for (var round = 0; round < rounds; round++)
        {
            var available = runs.Where(r => r.IsAvailable).ToList();
            for (var i = 0; i < available.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var run = available[(i + round) % available.Count];
                try
                {
                    await measure(run, round);
                }
                catch (InvalidOperationException e)
                {
                    run.Flag($"{label} round {round + 1}: {e.Message}");
                    Console.WriteLine($"  {label} round {round + 1} {run.Name}: FAILED {e.Message}");
                    if (run.Server is not null && ServerDied(run.Server))
                    {
                        run.MarkUnavailable($"process exited during {label}");
                    }
                }
            }
        }
    }

    /// <summary>True when every run came up and measured cleanly: the exit code is 0 only then.</summary>
    public static bool AllClean(IReadOnlyList<TargetRun> runs) => runs.All(r => r.IsAvailable && r.Problems.Count == 0);

    public static void PrintUnavailableAndProblems(IReadOnlyList<TargetRun> runs)
    {
        foreach (var run in runs)
        {
            if (!run.IsAvailable)
            {
                Console.WriteLine($"{run.Name}: not available — {run.Unavailable}");
            }
            foreach (var problem in run.Problems)
            {
                Console.WriteLine($"{run.Name}: FLAGGED — {problem}");
            }
        }
    }

    private static bool ServerDied(RunningServer server) => server.HasExitedProcess;
}
