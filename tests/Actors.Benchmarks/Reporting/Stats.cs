namespace Actors.Benchmarks.Reporting;

public static class Stats
{
    /// <summary>The median resists one disturbed round (the machine is shared) better than the mean.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>ours / reference, or NaN when either side is missing.</summary>
    public static double Ratio(double? ours, double? reference) =>
        ours is { } o && reference is { } r && r > 0 && !double.IsNaN(o) ? o / r : double.NaN;
}
