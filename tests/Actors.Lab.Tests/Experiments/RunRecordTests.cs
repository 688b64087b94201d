using Actors.Lab.Experiments;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// A run's clock: the event that starts it sits at exactly t = 0, and every event's t and unixMs
/// come from one clock reading. (The swarm sweep's "seeders-listening" once read t = 0.001: the
/// clock was read again for the event after the origin was set, and a millisecond had passed.)
/// </summary>
public sealed class RunRecordTests
{
    [Fact]
    public void The_event_that_starts_the_clock_is_at_exactly_t_zero()
    {
        var record = new RunRecord();
        // Many times, so a millisecond boundary between setting the origin and recording falls inside.
        for (var i = 0; i < 20_000; i++)
        {
            record.StartClock("test", "origin", $"{i}");
            Assert.True(record.Events.TryDequeue(out var origin));
            Assert.Equal(0.0, origin.T);
            Assert.Equal(record.OriginUnixMs, origin.UnixMs);
        }
    }

    [Fact]
    public void An_events_time_and_its_timestamp_agree()
    {
        var record = new RunRecord { OriginUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1_000 };
        for (var i = 0; i < 20_000; i++)
        {
            record.Event("test", "tick", $"{i}");
            Assert.True(record.Events.TryDequeue(out var e));
            Assert.Equal(record.At(e.UnixMs), e.T, 3); // t is kept to the millisecond
        }
    }
}
