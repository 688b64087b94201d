using System.Globalization;
using Actors.Benchmarks.Reporting;

namespace Actors.Benchmarks.Processes;

/// <summary>User and system CPU seconds of a process (or per GiB, scaled).</summary>
public readonly record struct CpuTime(double User, double System)
{
    public double Total => User + System;

    public static CpuTime operator -(CpuTime a, CpuTime b) => new(a.User - b.User, a.System - b.System);
    public static CpuTime operator *(CpuTime a, double factor) => new(a.User * factor, a.System * factor);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{User:F2} + {System:F2} = {Total:F2}");
}

/// <summary>
/// Medians of several runs' CPU times, each taken on its own: the total is the median of the
/// totals (the headline figure), so it need not equal the median user time plus the median system time.
/// </summary>
public readonly record struct CpuMedians(double User, double System, double Total)
{
    public static CpuMedians Of(IReadOnlyCollection<CpuTime> times) => new(
        Stats.Median(times.Select(t => t.User).ToList()),
        Stats.Median(times.Select(t => t.System).ToList()),
        Stats.Median(times.Select(t => t.Total).ToList()));

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Total:F2} (medians: user {User:F2}, system {System:F2})");
}
