using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Actors.Benchmarks.Tracker;

/// <summary>
/// What a tracker holds, read from outside as a user could: peers counted by BEP 48 scrapes of
/// the benchmark's swarms (complete + incomplete), and each process's resident memory (VmRSS).
/// </summary>
public static partial class TrackerProbe
{
    private const int HashesPerScrape = 50;

    /// <summary>Peers in the benchmark's swarms, by scraping <paramref name="baseUrl"/>; null when a scrape fails.</summary>
    public static async Task<long?> CountPeersAsync(string baseUrl, InfoHashSet infoHashes, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        long peers = 0;
        foreach (var chunk in infoHashes.Hashes.Chunk(HashesPerScrape))
        {
            var query = string.Join('&', chunk.Select(h => "info_hash=" + InfoHashSet.PercentEncode(h)));
            try
            {
                var body = Encoding.Latin1.GetString(await http.GetByteArrayAsync($"{baseUrl}/scrape?{query}", cancellationToken));
                foreach (Match match in Counts().Matches(body))
                {
                    peers += long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                }
            }
            catch (HttpRequestException)
            {
                return null;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
        return peers;
    }

    /// <summary>Resident memory of a process in bytes (VmRSS from /proc), or null when it cannot be read.</summary>
    public static long? ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>CPU time (user + system) a process has used so far, from /proc/PID/stat; null when it cannot be read.</summary>
    public static TimeSpan? CpuTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command (which may hold spaces) start after the last ')'; utime and stime are fields 14 and 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    // "8:completei12e" and "10:incompletei34e" in a scrape answer (the keys are fixed; counts follow).
    [GeneratedRegex(@"(?:8:complete|10:incomplete)i(\d+)e")]
    private static partial Regex Counts();
}
