using Actors.Calls.Caller;
using Xunit;

namespace Actors.Calls.Tests.Caller;

public sealed class BackoffTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Fact]
    public void Delays_double_up_to_the_maximum_and_stay_within_half_to_full_cap()
    {
        var backoff = new Backoff(Min, Max, new Random(1));
        for (var n = 0; n < 40; n++)
        {
            var cap = Math.Min(Max.TotalMilliseconds, Min.TotalMilliseconds * Math.Pow(2, n));
            var delay = backoff.Next().TotalMilliseconds;
            Assert.InRange(delay, cap / 2, cap);
        }
    }

    [Fact]
    public void Delays_are_jittered()
    {
        var delays = Enumerable.Range(0, 20).Select(seed =>
        {
            var backoff = new Backoff(Min, Max, new Random(seed));
            for (var i = 0; i < 10; i++) backoff.Next();
            return backoff.Next();
        }).Distinct().Count();
        Assert.True(delays > 10, $"only {delays} distinct delays out of 20 callers");
    }

    [Fact]
    public void Reset_starts_again_from_the_minimum()
    {
        var backoff = new Backoff(Min, Max, new Random(2));
        for (var i = 0; i < 10; i++) backoff.Next();
        backoff.Reset();
        Assert.InRange(backoff.Next(), Min / 2, Min);
    }
}
