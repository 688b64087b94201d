using Actors.Net.RateLimit;
using Xunit;

namespace Actors.Net.Tests.RateLimit;

/// <summary>
/// The shared byte-rate cap: a caller waits for the bytes the bucket lacks; an urgent one may
/// borrow one burst ahead, and the others then wait for that debt too. A rate of 1 KiB/s keeps the
/// refill during a test (microseconds) far below the amounts compared.
/// </summary>
public sealed class TokenBucketTests
{
    private const int Rate = 1024;
    // The burst is the larger of 64 KiB and a tenth of a second's bytes.
    private const int Burst = 64 * 1024;

    [Fact]
    public void A_full_bucket_lets_a_burst_through_then_makes_callers_wait_for_what_it_lacks()
    {
        var bucket = new TokenBucket(Rate);
        Assert.Equal(TimeSpan.Zero, bucket.Delay(Burst));
        Assert.Equal(TimeSpan.Zero, bucket.Take(Burst));
        // Empty: 16 KiB at 1 KiB/s is 16 s away.
        Assert.InRange(bucket.Delay(16 * 1024).TotalSeconds, 15.9, 16.0);
    }

    [Fact]
    public void An_urgent_caller_borrows_up_to_one_burst_and_the_others_wait_for_the_debt()
    {
        var bucket = new TokenBucket(Rate);
        bucket.Take(Burst);
        Assert.Equal(TimeSpan.Zero, bucket.Delay(16 * 1024, urgent: true));
        bucket.Take(16 * 1024);
        // 16 KiB in debt: an ordinary caller now waits for the debt and its own 16 KiB.
        Assert.InRange(bucket.Delay(16 * 1024).TotalSeconds, 31.9, 32.0);
        // Urgent callers may go on until the debt reaches one burst, and no further.
        Assert.Equal(TimeSpan.Zero, bucket.Delay(Burst - 16 * 1024, urgent: true));
        bucket.Take(Burst - 16 * 1024);
        Assert.InRange(bucket.Delay(16 * 1024, urgent: true).TotalSeconds, 15.9, 16.0);
    }

    [Fact]
    public void An_unlimited_bucket_never_makes_anyone_wait()
    {
        var bucket = new TokenBucket(0);
        Assert.True(bucket.IsUnlimited);
        Assert.Equal(TimeSpan.Zero, bucket.Take(int.MaxValue));
        Assert.Equal(TimeSpan.Zero, bucket.Delay(int.MaxValue));
    }
}
