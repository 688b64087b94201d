using Actors.Net.Scheduling;
using Akka.Actor;
using Xunit;

namespace Actors.Net.Tests;

/// <summary>
/// The shared tick wheel: the pure schedule (which ticks are due in which slot) and the actor
/// around it, turned by hand (<see cref="TickWheel.ManualProps"/>): deterministic, no sleeps.
/// </summary>
public sealed class TickWheelTests : Akka.TestKit.Xunit2.TestKit
{
    public TickWheelTests() : base("akka.loglevel = WARNING") { }

    private static readonly TimeSpan Slot = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Every_entry_is_due_once_per_period_and_entries_of_one_period_spread_over_it()
    {
        var schedule = new TickSchedule<string>();
        for (var i = 0; i < 20; i++) schedule.Add($"s{i}", "tick", 10);
        var perSlot = new List<int>();
        var perSubscriber = new Dictionary<string, List<long>>();
        for (var slot = 0; slot < 30; slot++)
        {
            var due = schedule.Advance();
            perSlot.Add(due.Count);
            foreach (var (subscriber, _) in due)
            {
                if (!perSubscriber.TryGetValue(subscriber, out var at)) perSubscriber[subscriber] = at = new List<long>();
                at.Add(schedule.Now);
            }
        }
        // 20 entries over a 10-slot period: 2 in every slot, never 20 in one.
        Assert.All(perSlot, n => Assert.Equal(2, n));
        Assert.Equal(20, perSubscriber.Count);
        foreach (var (subscriber, at) in perSubscriber)
        {
            Assert.Equal(3, at.Count);
            Assert.True(at[0] is >= 1 and <= 10, $"{subscriber} first at {at[0]}");
            Assert.Equal(10, at[1] - at[0]);
            Assert.Equal(10, at[2] - at[1]);
        }
    }

    [Fact]
    public void Removing_an_entry_stops_it_and_leaves_the_subscribers_other_ticks()
    {
        var schedule = new TickSchedule<string>();
        schedule.Add("a", "fast", 1);
        schedule.Add("a", "slow", 3);
        schedule.Add("b", "fast", 1);
        Assert.Equal(2, schedule.CountOf("a"));
        Assert.True(schedule.Remove("a", "fast"));
        Assert.False(schedule.Remove("a", "fast"));
        var due = Enumerable.Range(0, 6).SelectMany(_ => schedule.Advance()).ToList();
        Assert.DoesNotContain(("a", (object)"fast"), due);
        Assert.Equal(2, due.Count(d => d == ("a", "slow")));
        Assert.Equal(6, due.Count(d => d == ("b", "fast")));
        Assert.Equal(1, schedule.RemoveAll("a"));
        Assert.Equal(0, schedule.CountOf("a"));
        Assert.DoesNotContain(Enumerable.Range(0, 6).SelectMany(_ => schedule.Advance()), d => d.Subscriber == "a");
        Assert.Equal(1, schedule.Count);
    }

    [Fact]
    public void Adding_a_pair_again_changes_its_period_without_doubling_it()
    {
        var schedule = new TickSchedule<string>();
        Assert.True(schedule.Add("a", "tick", 10));
        Assert.False(schedule.Add("a", "tick", 10)); // the same: nothing changes
        Assert.False(schedule.Add("a", "tick", 1)); // faster now
        var due = Enumerable.Range(0, 5).Select(_ => schedule.Advance().Count).ToList();
        Assert.Equal([1, 1, 1, 1, 1], due);
        Assert.Equal(1, schedule.Count);
        Assert.Equal(1, schedule.CountOf("a"));
    }

    [Fact]
    public void Periods_are_rounded_up_to_whole_slots()
    {
        Assert.Equal(10, TickWheel.SlotsIn(TimeSpan.FromSeconds(1), Slot));
        Assert.Equal(11, TickWheel.SlotsIn(TimeSpan.FromMilliseconds(1001), Slot));
        Assert.Equal(1, TickWheel.SlotsIn(TimeSpan.Zero, Slot));
    }

    [Fact]
    public void The_wheel_tells_each_subscriber_its_tick_when_due()
    {
        var wheel = Sys.ActorOf(TickWheel.ManualProps(Slot));
        wheel.Tell(new TickWheel.Subscribe(TestActor, "every-3", TimeSpan.FromMilliseconds(300)));
        var seen = new List<long>();
        for (var i = 0; i < 9; i++)
        {
            wheel.Tell(TickWheel.Advance.Instance);
            // Ticks are told before the answer: the answer says how many came, and nothing else may come first.
            var message = ExpectMsg<object>();
            if (message is "every-3")
            {
                var advanced = ExpectMsg<TickWheel.Advanced>();
                Assert.Equal(1, advanced.Delivered);
                seen.Add(advanced.Slot);
            }
            else
            {
                Assert.Equal(0, Assert.IsType<TickWheel.Advanced>(message).Delivered);
            }
        }
        Assert.Equal(3, seen.Count);
        Assert.Equal(3, seen[1] - seen[0]);
        Assert.Equal(3, seen[2] - seen[1]);
    }

    [Fact]
    public void A_subscriber_that_stops_is_forgotten_and_an_empty_wheel_stops_its_timer()
    {
        var wheel = Sys.ActorOf(TickWheel.Props(TimeSpan.FromMinutes(1))); // turns on its own, but not during this test
        var subscriber = CreateTestProbe();
        wheel.Tell(new TickWheel.Subscribe(subscriber.Ref, "a", TimeSpan.FromMinutes(1)));
        wheel.Tell(new TickWheel.Subscribe(subscriber.Ref, "b", TimeSpan.FromMinutes(5)));
        wheel.Tell(TickWheel.GetStats.Instance);
        Assert.Equal((2, 1, true), Summary(ExpectMsg<TickWheel.WheelStats>()));

        wheel.Tell(new TickWheel.Unsubscribe(subscriber.Ref, "a"));
        wheel.Tell(TickWheel.GetStats.Instance);
        Assert.Equal((1, 1, true), Summary(ExpectMsg<TickWheel.WheelStats>()));

        Watch(subscriber.Ref);
        Sys.Stop(subscriber.Ref);
        ExpectTerminated(subscriber.Ref);
        AwaitAssert(() =>
        {
            wheel.Tell(TickWheel.GetStats.Instance);
            Assert.Equal((0, 0, false), Summary(ExpectMsg<TickWheel.WheelStats>()));
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Ticks_of_one_period_are_spread_over_the_slots_not_told_all_at_once()
    {
        var wheel = Sys.ActorOf(TickWheel.ManualProps(Slot));
        var probes = Enumerable.Range(0, 10).Select(_ => CreateTestProbe()).ToArray();
        foreach (var probe in probes) wheel.Tell(new TickWheel.Subscribe(probe.Ref, "tick", TimeSpan.FromMilliseconds(500)));
        var delivered = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            wheel.Tell(TickWheel.Advance.Instance);
            delivered.Add(ExpectMsg<TickWheel.Advanced>().Delivered);
        }
        Assert.Equal([2, 2, 2, 2, 2, 2, 2, 2, 2, 2], delivered);
        // Told before the answers above: each probe already holds exactly its two ticks.
        foreach (var probe in probes)
        {
            probe.ExpectMsg("tick");
            probe.ExpectMsg("tick");
            Assert.False(probe.HasMessages);
        }
    }

    [Fact]
    public void The_schedule_knows_its_next_due_slot_and_forgets_slots_whose_ticks_were_all_removed()
    {
        var schedule = new TickSchedule<string>();
        Assert.Null(schedule.NextDue());
        schedule.Add("a", "slow", 50); // first slot within 50: the least loaded, the earliest on a tie
        Assert.Equal(1, schedule.NextDue());
        schedule.Advance();
        Assert.Equal(51, schedule.NextDue());
        schedule.Add("b", "fast", 5);
        Assert.Equal(2, schedule.NextDue());
        schedule.Remove("b", "fast");
        Assert.Equal(51, schedule.NextDue()); // slot 2 held only a removed tick
        schedule.Remove("a", "slow");
        Assert.Null(schedule.NextDue());
    }

    [Fact]
    public void Catching_up_many_slots_tells_each_tick_once_and_keeps_its_cadence()
    {
        var schedule = new TickSchedule<string>();
        schedule.Add("a", "every-2", 2);
        schedule.Add("b", "every-5", 5);
        var due = schedule.AdvanceTo(100); // as after a process was stopped for 100 slots
        Assert.Equal(100, schedule.Now);
        Assert.Equal(2, due.Count);
        Assert.Contains(("a", (object)"every-2"), due);
        Assert.Contains(("b", (object)"every-5"), due);
        Assert.Empty(schedule.AdvanceTo(100)); // already there
        // The cadence goes on from where each tick was, never several at once.
        var next = Enumerable.Range(0, 10).Select(_ => schedule.Advance().Count).Sum();
        Assert.Equal(5 + 2, next);
    }

    [Fact]
    public void A_wheel_on_its_own_wakes_when_a_tick_is_due_not_every_slot()
    {
        // 10 ms slots, one tick every 300 ms: turning every slot would be ~100 wake-ups in a second.
        var wheel = Sys.ActorOf(TickWheel.Props(TimeSpan.FromMilliseconds(10)));
        wheel.Tell(new TickWheel.Subscribe(TestActor, "tick", TimeSpan.FromMilliseconds(300)));
        var started = DateTime.UtcNow;
        for (var i = 0; i < 4; i++) ExpectMsg("tick", TimeSpan.FromSeconds(5));
        var elapsed = DateTime.UtcNow - started;
        // Four ticks 300 ms apart (the first within its first period): at least ~0.9 s.
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(850), $"four ticks came in {elapsed.TotalMilliseconds:0} ms");
        wheel.Tell(TickWheel.GetStats.Instance);
        var stats = ExpectMsg<TickWheel.WheelStats>();
        Assert.True(stats.Turning);
        // One wake-up per tick, give or take a late-arriving catch-up; nowhere near one per slot.
        Assert.InRange(stats.Wakeups, 4, 8);
    }

    private static (int Ticks, int Subscribers, bool Turning) Summary(TickWheel.WheelStats stats) => (stats.Ticks, stats.Subscribers, stats.Turning);
}
