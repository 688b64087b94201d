using System.Diagnostics;
using Actors.Net.Scheduling;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Xunit;

namespace Actors.Net.Tests;

/// <summary>An actor system running on <see cref="TimerQueueScheduler"/>: messages arrive when due (not before), cancels hold, timers of actors work.</summary>
public sealed class TimerQueueSchedulerTests : Akka.TestKit.Xunit2.TestKit
{
    public TimerQueueSchedulerTests() : base("""
        akka.loglevel = WARNING
        akka.scheduler.implementation = "Actors.Net.Scheduling.TimerQueueScheduler, Actors.Net"
        """) { }

    [Fact]
    public void The_actor_system_runs_on_it()
    {
        Assert.IsType<TimerQueueScheduler>(Sys.Scheduler);
    }

    [Fact]
    public void A_scheduled_message_arrives_after_its_delay_and_not_before()
    {
        var started = Stopwatch.StartNew();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(300), TestActor, "due", ActorRefs.NoSender);
        ExpectMsg("due", TimeSpan.FromSeconds(10));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(290), $"arrived after {started.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void A_cancelled_message_never_arrives()
    {
        var cancelable = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromMilliseconds(200), TestActor, "cancelled", ActorRefs.NoSender);
        cancelable.Cancel();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(400), TestActor, "later", ActorRefs.NoSender);
        ExpectMsg("later", TimeSpan.FromSeconds(10));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void A_repeated_message_repeats_until_cancelled()
    {
        var cancelable = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.Zero, TimeSpan.FromMilliseconds(50), TestActor, "tick", ActorRefs.NoSender);
        for (var i = 0; i < 3; i++) ExpectMsg("tick", TimeSpan.FromSeconds(10));
        cancelable.Cancel();
        // A tick already on its way may still land; after that, silence.
        ReceiveWhile<object>(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(300), m => m);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    private sealed class Ticker : ReceiveActor, IWithTimers
    {
        public ITimerScheduler Timers { get; set; } = null!;

        public Ticker(IActorRef probe)
        {
            Receive<string>(s => s == "start", _ => Timers.StartSingleTimer("t", "fired", TimeSpan.FromMilliseconds(100)));
            Receive<string>(s => s == "restart", _ => Timers.StartSingleTimer("t", "fired-again", TimeSpan.FromMilliseconds(100)));
            Receive<string>(s => s.StartsWith("fired"), s => probe.Tell(s));
        }
    }

    [Fact]
    public void Actor_timers_fire_and_a_restarted_timer_replaces_the_old_one()
    {
        var ticker = Sys.ActorOf(FactoryProps.Create(() => new Ticker(TestActor)));
        ticker.Tell("start");
        ExpectMsg("fired", TimeSpan.FromSeconds(10));
        ticker.Tell("start");
        ticker.Tell("restart");
        ExpectMsg("fired-again", TimeSpan.FromSeconds(10));
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Disposing_runs_pending_one_shot_tasks_once_and_refuses_new_ones()
    {
        using var concrete = new TimerQueueScheduler(ConfigurationFactory.Empty, Sys.Log);
        IScheduler scheduler = concrete;
        var ran = 0;
        scheduler.Advanced.ScheduleOnce(TimeSpan.FromHours(1), () => Interlocked.Increment(ref ran));
        scheduler.Advanced.ScheduleRepeatedly(TimeSpan.FromHours(1), TimeSpan.FromHours(1), () => Interlocked.Add(ref ran, 100));
        concrete.Dispose();
        Assert.Equal(1, ran);
        Assert.Throws<SchedulerException>(() => scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () => { }));
    }
}
