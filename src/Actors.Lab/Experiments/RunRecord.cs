using System.Collections.Concurrent;
using System.Globalization;

namespace Actors.Lab.Experiments;

/// <summary>One thing that happened during a run; <paramref name="T"/> as recorded, the bundle recomputes it from <paramref name="UnixMs"/> once the method's start is known (t = 0; negative before).</summary>
public sealed record RunEvent(double T, long UnixMs, string Source, string Kind, string Text);

/// <summary>One sample: a figure of a node (or of the load) at a time.</summary>
public sealed record Sample(double T, string Node, string Metric, double Value);

/// <summary>The outcome of one probe or check: its name, whether it held, and why (figures, the first counterexample).</summary>
public sealed record CheckResult(string Name, string Phase, bool Passed, string Detail);

/// <summary>Everything a run leaves for its bundle: events, samples, fault windows, results. Thread-safe appends.</summary>
public sealed class RunRecord
{
    public ConcurrentQueue<RunEvent> Events { get; } = new();
    public ConcurrentQueue<Sample> Samples { get; } = new();
    public List<CheckResult> Results { get; } = [];
    public List<(TimeSpan From, TimeSpan To, string Label)> FaultWindows { get; } = [];
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;
    public double MethodEnd { get; set; }

    /// <summary>When the method begins (t = 0): the run's start until then.</summary>
    public long OriginUnixMs { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public double Now() => (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - OriginUnixMs) / 1000.0;

    public double At(long unixMs) => (unixMs - OriginUnixMs) / 1000.0;

    /// <summary>
    /// Sets t = 0 to now and records the event that marks it, at exactly t = 0 (reading the clock
    /// again for the event could already be a millisecond later).
    /// </summary>
    public void StartClock(string source, string kind, string text)
    {
        OriginUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Event(source, kind, text, OriginUnixMs);
    }

    /// <summary>An event now: one clock reading gives both its t and its unixMs.</summary>
    public void Event(string source, string kind, string text) =>
        Event(source, kind, text, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>An event that happened at <paramref name="unixMs"/> (read afterwards, e.g. from a progress file).</summary>
    public void Event(string source, string kind, string text, long unixMs) =>
        Events.Enqueue(new RunEvent(Math.Round(At(unixMs), 3), unixMs, source, kind, text));

    public void Sample(string node, string metric, double value) => Samples.Enqueue(new Sample(Math.Round(Now(), 3), node, metric, value));

    public void Result(string name, string phase, bool passed, string detail)
    {
        lock (Results) Results.Add(new CheckResult(name, phase, passed, detail));
        Event("runner", passed ? "check-passed" : "check-failed", $"{phase}: {name}: {detail}");
    }

    public bool Passed { get { lock (Results) return Results.All(r => r.Passed); } }

    public static string F(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
