namespace Actors.Lab.Experiments;

/// <summary>
/// The method's timeline: the scenario's timed faults plus the nemesis's draws, in time order.
/// Pure and seeded: the same scenario and seed give the same plan (re-run.sh relies on it).
/// Every nemesis fault is undone after <see cref="NemesisSpec.HealAfter"/>: kill → restart,
/// pause → resume, partition → heal; the nemesis stops drawing when the undo would fall past the end.
/// </summary>
public static class FaultPlan
{
    public static IReadOnlyList<FaultStep> Build(Scenario scenario, int seed)
    {
        var steps = new List<FaultStep>(scenario.Method);
        if (scenario.Nemesis is { } nemesis)
        {
            var random = new Random(seed);
            for (var at = nemesis.Interval; at + nemesis.HealAfter <= scenario.Duration; at += nemesis.Interval)
            {
                var fault = nemesis.Faults[random.Next(nemesis.Faults.Count)];
                var target = nemesis.Targets[random.Next(nemesis.Targets.Count)];
                var none = new Dictionary<string, string>();
                steps.Add(new FaultStep(at, fault, target, none));
                var (undo, undoTarget) = fault switch { "kill" => ("restart", target), "pause" => ("resume", target), _ => ("heal", "") };
                steps.Add(new FaultStep(at + nemesis.HealAfter, undo, undoTarget, none));
            }
        }
        return steps.OrderBy(s => s.At).ToList();
    }

    /// <summary>Fault windows for plots and the report: each fault from its start to the step that undoes it (or the end).</summary>
    public static IReadOnlyList<(TimeSpan From, TimeSpan To, string Label)> Windows(IReadOnlyList<FaultStep> steps, TimeSpan end)
    {
        var windows = new List<(TimeSpan, TimeSpan, string)>();
        for (var i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            if (s.Action is "heal" or "resume" or "restart" or "clear") continue;
            var undo = steps.Skip(i + 1).FirstOrDefault(u => Undoes(s, u));
            windows.Add((s.At, undo?.At ?? end, s.ToString()));
        }
        return windows;
    }

    private static bool Undoes(FaultStep fault, FaultStep step) => (fault.Action, step.Action) switch
    {
        ("kill" or "terminate", "restart") => step.Target == fault.Target,
        ("pause", "resume") => step.Target == fault.Target,
        ("partition", "heal") => true,
        ("toxic", "clear") => step.Target == fault.Target,
        _ => false,
    };
}
