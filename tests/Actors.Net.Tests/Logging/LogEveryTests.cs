using System.Diagnostics;
using Actors.Net.Logging;
using Xunit;

namespace Actors.Net.Tests.Logging;

public sealed class LogEveryTests
{
    [Fact]
    public void A_repeated_warning_is_logged_once_per_interval_with_its_count()
    {
        long now = 0;
        var log = new LogEvery(TimeSpan.FromSeconds(10), () => now);
        Assert.True(log.ShouldLog(out var first));
        Assert.Equal(1, first);
        var logged = 0;
        for (var i = 0; i < 10_000; i++)
        {
            now += Stopwatch.Frequency / 1000; // 10,000 events over 10 s
            if (log.ShouldLog(out _)) logged++;
        }
        Assert.Equal(1, logged);
        now += Stopwatch.Frequency * 11;
        Assert.True(log.ShouldLog(out var count));
        Assert.Equal(1, count); // everything before was already counted in the line logged at 10 s
    }

    [Fact]
    public void The_count_covers_every_suppressed_occurrence()
    {
        long now = 0;
        var log = new LogEvery(TimeSpan.FromSeconds(1), () => now);
        Assert.True(log.ShouldLog(out _));
        for (var i = 0; i < 99; i++) Assert.False(log.ShouldLog(out _));
        now += Stopwatch.Frequency * 2;
        Assert.True(log.ShouldLog(out var count));
        Assert.Equal(100, count);
    }
}
