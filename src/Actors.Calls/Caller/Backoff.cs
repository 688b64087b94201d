namespace Actors.Calls.Caller;

/// <summary>
/// Exponential backoff with jitter for reconnecting to a rendezvous: the n-th delay is drawn
/// uniformly from [cap/2, cap], where cap = min(Max, Min · 2^n). Half the cap is fixed so a retry
/// never comes at once; the other half is random so callers cut off by the same node failure do
/// not all come back in the same instant. Pure (the random source is given), so it is unit-tested.
/// </summary>
public sealed class Backoff(TimeSpan min, TimeSpan max, Random random)
{
    private int _attempt;

    public TimeSpan Min { get; } = min;
    public TimeSpan Max { get; } = max < min ? min : max;

    /// <summary>The delay before the next attempt; each call doubles the cap until it reaches Max.</summary>
    public TimeSpan Next()
    {
        var cap = Math.Min(Max.Ticks, Min.Ticks * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt++;
        return TimeSpan.FromTicks((long)(cap / 2 + random.NextDouble() * cap / 2));
    }

    /// <summary>After a success: the next failure starts again from Min.</summary>
    public void Reset() => _attempt = 0;
}
