namespace Actors.Lab.Experiments;

/// <summary>
/// BitTorrent's availability: how many copies of each piece the swarm holds, second by second, from
/// the leecher processes' progress lines (per-process counts per piece) plus the seeders (every
/// piece, throughout). Per second: the least, median and most copies of any piece, the mean, and
/// libtorrent's "distributed copies" — the least copies plus the fraction of pieces above it (2.25:
/// every piece at least twice, a quarter of them more often). A process counts from its first line
/// to its last (when it exits, its peers leave the swarm); a second it wrote no line in (an Ask that
/// timed out) carries its previous counts.
/// </summary>
public static class PieceAvailability
{
    public sealed record Point(int T, int Min, double Median, int Max, double Mean, double DistributedCopies);

    /// <param name="processes">each leecher process's lines, oldest first.</param>
    /// <param name="seeders">peers that hold every piece from t = 0 on and write no progress.</param>
    /// <param name="startUnixMs">t = 0 (the seeders started); earlier lines are ignored.</param>
    public static IReadOnlyList<Point> Over(IEnumerable<IReadOnlyList<SwarmProgress>> processes, int seeders, long startUnixMs)
    {
        // Per process: second → counts of its last line in that second.
        var perProcess = new List<SortedList<int, int[]>>();
        var pieces = -1;
        foreach (var lines in processes)
        {
            var seconds = new SortedList<int, int[]>();
            foreach (var line in lines)
            {
                var t = (int)Math.Floor((line.UnixMs - startUnixMs) / 1000.0);
                if (t < 0 || line.Counts.Length == 0) continue;
                if (pieces < 0) pieces = line.Counts.Length;
                if (line.Counts.Length == pieces) seconds[t] = line.Counts;
            }
            if (seconds.Count > 0) perProcess.Add(seconds);
        }
        if (perProcess.Count == 0) return [];

        var points = new List<Point>();
        var next = new int[perProcess.Count];      // index of each process's next second not yet used
        var current = new int[]?[perProcess.Count]; // its counts as of now
        var first = perProcess.Min(p => p.Keys[0]);
        var last = perProcess.Max(p => p.Keys[^1]);
        for (var t = first; t <= last; t++)
        {
            var copies = new int[pieces];
            Array.Fill(copies, seeders);
            for (var p = 0; p < perProcess.Count; p++)
            {
                var seconds = perProcess[p];
                while (next[p] < seconds.Count && seconds.Keys[next[p]] <= t) current[p] = seconds.Values[next[p]++];
                if (current[p] is not { } counts || t > seconds.Keys[^1]) continue; // not started yet, or gone
                for (var i = 0; i < pieces; i++) copies[i] += counts[i];
            }
            points.Add(Of(t, copies));
        }
        return points;
    }

    /// <summary>The figures of one second's copies per piece.</summary>
    public static Point Of(int t, int[] copies)
    {
        var sorted = (int[])copies.Clone();
        Array.Sort(sorted);
        var n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return new Point(t, sorted[0], median, sorted[^1], sorted.Average(), DistributedCopies(sorted));
    }

    /// <summary>libtorrent's distributed copies: the least copies of any piece plus the fraction of pieces held more often than that.</summary>
    public static double DistributedCopies(IReadOnlyCollection<int> copies)
    {
        if (copies.Count == 0) return 0;
        var min = copies.Min();
        return min + (double)copies.Count(c => c > min) / copies.Count;
    }
}
