using System.Diagnostics;

namespace Actors.Net.Logging;

/// <summary>
/// Turns a warning that may repeat thousands of times a second (refused connections, sockets
/// exhausted) into one line per interval with a count. The first occurrence is logged at once;
/// later ones are counted until the interval has passed, and the next occurrence logs the count.
/// Thread-safe (a process-wide budget shares one between actors); cheap enough for hot paths.
/// <code>
/// if (_refusals.ShouldLog(out var count)) _log.Warning("Refused {0} connections: ...", count);
/// </code>
/// </summary>
public sealed class LogEvery(TimeSpan interval, Func<long>? clock = null)
{
    private readonly Func<long> _clock = clock ?? Stopwatch.GetTimestamp;
    private readonly long _intervalTicks = (long)(interval.TotalSeconds * Stopwatch.Frequency);
    private readonly Lock _lock = new();
    private long _lastLogged = long.MinValue;
    private long _count;

    public TimeSpan Interval { get; } = interval;

    /// <summary>Records one occurrence.</summary>
    /// <param name="count">When true: occurrences since the last logged line, this one included.</param>
    /// <returns>true when this occurrence should be logged.</returns>
    public bool ShouldLog(out long count)
    {
        lock (_lock)
        {
            _count++;
            var now = _clock();
            if (_lastLogged != long.MinValue && now - _lastLogged < _intervalTicks)
            {
                count = 0;
                return false;
            }
            _lastLogged = now;
            count = _count;
            _count = 0;
            return true;
        }
    }
}
