using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Actors.Lab.Experiments;

/// <summary>
/// The line <c>actors peer get --progress FILE</c> appends every second, and the swarm sweep reads:
/// <c>{"unixMs":…,"pieces":P,"have":[pieces held, per peer],"up":[bytes uploaded, per peer],"peers":[connections, per peer],
/// "counts":[peers of this process holding it, per piece]}</c> (<c>up</c> and <c>peers</c>: the benchmark's seeder timeline).
/// Per-process counts, not per-peer bitfields: a line grows with the pieces, not with pieces × peers.
/// The writer (the Host) and the reader (<see cref="SwarmExperiment"/>) share this one type.
/// </summary>
public sealed record SwarmProgress(long UnixMs, int Pieces, int[] Have, int[] Counts)
{
    /// <param name="bitfields">each peer's pieces as the wire's bitfield (high bit first); a short or empty one counts as nothing held.</param>
    public static string Line(long unixMs, int pieces, IReadOnlyList<int> have, IReadOnlyList<byte[]> bitfields,
        IReadOnlyList<long>? uploaded = null, IReadOnlyList<int>? connections = null)
    {
        var counts = new int[pieces];
        foreach (var bits in bitfields)
            for (var b = 0; b < bits.Length && b * 8 < pieces; b++)
            {
                if (bits[b] == 0) continue;
                for (var i = 0; i < 8 && b * 8 + i < pieces; i++)
                    if ((bits[b] & (0x80 >> i)) != 0) counts[b * 8 + i]++;
            }
        var line = new StringBuilder(64 + 4 * (have.Count + pieces));
        line.Append(CultureInfo.InvariantCulture, $"{{\"unixMs\":{unixMs},\"pieces\":{pieces},\"have\":[");
        Join(line, have);
        if (uploaded is not null)
        {
            line.Append("],\"up\":[");
            Join(line, uploaded);
        }
        if (connections is not null)
        {
            line.Append("],\"peers\":[");
            Join(line, connections);
        }
        line.Append("],\"counts\":[");
        Join(line, counts);
        return line.Append("]}").ToString();
    }

    private static void Join<T>(StringBuilder to, IReadOnlyList<T> values) where T : IFormattable
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0) to.Append(',');
            to.Append(values[i].ToString(null, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A line; one without <c>counts</c> (an older peer) has them all zero. Throws JsonException/KeyNotFoundException on a malformed line.</summary>
    public static SwarmProgress Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var pieces = root.GetProperty("pieces").GetInt32();
        var counts = root.TryGetProperty("counts", out var c) ? c.EnumerateArray().Select(e => e.GetInt32()).ToArray() : new int[pieces];
        if (counts.Length != pieces) throw new JsonException($"counts has {counts.Length} entries for {pieces} pieces");
        return new SwarmProgress(root.GetProperty("unixMs").GetInt64(), pieces, [.. root.GetProperty("have").EnumerateArray().Select(e => e.GetInt32())], counts);
    }
}
