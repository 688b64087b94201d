using System.Diagnostics;

namespace Actors.Net.RateLimit;

/// <summary>
/// A byte-rate limit shared by several connections (one node's upload or download cap).
/// Connections take bytes after or before moving them and are told how long to pause; the
/// bucket may go into debt, so a large chunk is never refused, only paid for by waiting.
/// Thread-safe: actors on different threads share one bucket, and it holds no actor state.
/// </summary>
public sealed class TokenBucket
{
    private readonly object _gate = new();
    private readonly double _bytesPerSecond;
    private readonly double _burst;
    private double _tokens;
    private long _last = Stopwatch.GetTimestamp();

    /// <param name="bytesPerSecond">The rate; zero or less means unlimited.</param>
    public TokenBucket(long bytesPerSecond)
    {
        _bytesPerSecond = bytesPerSecond;
        _burst = Math.Max(64 * 1024, bytesPerSecond / 10.0);
        _tokens = _burst;
    }

    public static readonly TokenBucket Unlimited = new(0);

    public bool IsUnlimited => _bytesPerSecond <= 0;

    public long BytesPerSecond => (long)_bytesPerSecond;

    /// <summary>Takes <paramref name="bytes"/>; returns how long the caller should wait before moving more.</summary>
    public TimeSpan Take(int bytes)
    {
        if (IsUnlimited) return TimeSpan.Zero;
        lock (_gate)
        {
            Refill();
            _tokens -= bytes;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _bytesPerSecond);
        }
    }

    /// <summary>
    /// How long until <paramref name="bytes"/> could be taken without debt (zero: now). An
    /// <paramref name="urgent"/> caller may borrow up to one burst ahead: it goes before the others
    /// sharing the bucket, who then wait for the debt to be repaid, so the rate over time is unchanged.
    /// </summary>
    public TimeSpan Delay(int bytes, bool urgent = false)
    {
        if (IsUnlimited) return TimeSpan.Zero;
        lock (_gate)
        {
            Refill();
            var missing = bytes - _tokens - (urgent ? _burst : 0);
            return missing <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(missing / _bytesPerSecond);
        }
    }

    private void Refill()
    {
        var now = Stopwatch.GetTimestamp();
        _tokens = Math.Min(_burst, _tokens + Stopwatch.GetElapsedTime(_last, now).TotalSeconds * _bytesPerSecond);
        _last = now;
    }
}
