using System.Net;

namespace Actors.Torrent.Dht;

/// <summary>
/// A token bucket per source endpoint for incoming datagrams: a source may send
/// <c>ratePerSecond</c> on average with bursts of <c>burst</c>; the rest is dropped unread. The
/// table of sources is bounded: when full, idle sources are forgotten, and if none is idle new
/// sources are refused until one is (a flood of spoofed sources costs a bounded amount of memory).
/// Keyed by IP and port: many nodes of a Lab share 127.0.0.1.
/// </summary>
public sealed class SourceRateLimiter(double ratePerSecond = 50, double burst = 100, int maxSources = 10_000)
{
    private readonly Dictionary<IPEndPoint, (double Tokens, DateTime Last)> _sources = new();

    public int SourceCount => _sources.Count;

    public bool Allow(IPEndPoint source, DateTime now)
    {
        if (!_sources.TryGetValue(source, out var state))
        {
            if (_sources.Count >= maxSources)
            {
                Purge(now);
                if (_sources.Count >= maxSources) return false;
            }
            state = (burst, now);
        }
        var tokens = Math.Min(burst, state.Tokens + (now - state.Last).TotalSeconds * ratePerSecond);
        var allowed = tokens >= 1;
        _sources[source] = (allowed ? tokens - 1 : tokens, now);
        return allowed;
    }

    /// <summary>Forgets sources whose bucket has refilled (idle long enough to be full again).</summary>
    public void Purge(DateTime now)
    {
        var full = TimeSpan.FromSeconds(burst / ratePerSecond);
        foreach (var (source, state) in _sources.ToList())
            if (now - state.Last >= full) _sources.Remove(source);
    }
}
