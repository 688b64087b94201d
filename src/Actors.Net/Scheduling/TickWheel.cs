using Akka.Actor;

namespace Actors.Net.Scheduling;

/// <summary>
/// One timer for many actors' periodic ticks: a process with thousands of torrents and
/// connections (each with its choke round, connect tick, keep-alive check...) would otherwise
/// hold thousands of timers, each waking a thread-pool thread on its own. The wheel's clock moves
/// in slots (<c>slot</c>, e.g. 100 ms) and it tells each subscriber whose tick is due in a slot its
/// message, so the process wakes at most once per slot, and ticks with the same period are spread
/// evenly over it (<see cref="TickSchedule{TSubscriber}"/>), never all at once. Its one timer is
/// set for the next slot that has a tick due, not every slot: an idle seeder whose only ticks
/// come every few seconds wakes every few seconds, not ten times a second.
/// <para>
/// The wheel only delivers ticks: each subscriber still owns its state and decides what a tick
/// means. Periods are rounded up to whole slots; a subscriber's first tick comes within its first
/// period. Subscribers are watched and forgotten when they stop. With nothing subscribed the
/// wheel's own timer stops too. A manual wheel (<see cref="ManualProps"/>) has no timer: tests
/// turn it with <see cref="Advance"/> and get <see cref="Advanced"/> back.
/// </para>
/// </summary>
public sealed class TickWheel : ReceiveActor, IWithTimers
{
    /// <summary><paramref name="Message"/> to <paramref name="Subscriber"/> every <paramref name="Every"/>; again with another period changes it.</summary>
    public sealed record Subscribe(IActorRef Subscriber, object Message, TimeSpan Every);
    /// <summary>Stop one tick of <paramref name="Subscriber"/> (the others stay).</summary>
    public sealed record Unsubscribe(IActorRef Subscriber, object Message);
    /// <summary>Turn one slot (the wheel's own timer; tests send it to a manual wheel).</summary>
    public sealed class Advance { public static readonly Advance Instance = new(); private Advance() { } }
    /// <summary>The answer to an <see cref="Advance"/> sent by someone else: the slot and how many ticks were told, after telling them.</summary>
    public sealed record Advanced(long Slot, int Delivered);
    /// <summary>Answered with <see cref="WheelStats"/>.</summary>
    public sealed class GetStats { public static readonly GetStats Instance = new(); private GetStats() { } }
    /// <param name="Wakeups">How often the wheel's own timer has fired: once per slot with a tick due, not once per slot.</param>
    public sealed record WheelStats(int Ticks, int Subscribers, bool Turning, long Wakeups);

    private readonly TickSchedule<IActorRef> _schedule = new();
    private readonly HashSet<IActorRef> _watched = new();
    private readonly TimeSpan _slot;
    private readonly bool _manual;
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _wakeups;
    /// <summary>The slot the timer is set for (null: not set).</summary>
    private long? _armedFor;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>A wheel that turns on its own every <paramref name="slot"/>.</summary>
    public static Props Props(TimeSpan slot) => Akka.Actor.Props.Create(() => new TickWheel(slot, false));

    /// <summary>A wheel that turns only when told <see cref="Advance"/> (deterministic tests).</summary>
    public static Props ManualProps(TimeSpan slot) => Akka.Actor.Props.Create(() => new TickWheel(slot, true));

    public TickWheel(TimeSpan slot, bool manual)
    {
        if (slot <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(slot), "a slot must be longer than zero");
        _slot = slot;
        _manual = manual;
        Receive<Subscribe>(OnSubscribe);
        Receive<Unsubscribe>(u =>
        {
            if (_schedule.Remove(u.Subscriber, u.Message) && _schedule.CountOf(u.Subscriber) == 0) Forget(u.Subscriber);
            StopWhenEmpty();
        });
        Receive<Advance>(_ => OnAdvance());
        Receive<Terminated>(t =>
        {
            _schedule.RemoveAll(t.ActorRef);
            _watched.Remove(t.ActorRef);
            StopWhenEmpty();
        });
        Receive<GetStats>(_ => Sender.Tell(new WheelStats(_schedule.Count, _watched.Count, Timers.IsTimerActive(Advance.Instance), _wakeups)));
    }

    /// <summary>Slots in <paramref name="every"/>, rounded up, at least one.</summary>
    public static int SlotsIn(TimeSpan every, TimeSpan slot) => (int)Math.Clamp(Math.Ceiling(every.Ticks / (double)slot.Ticks), 1, int.MaxValue);

    private void OnSubscribe(Subscribe subscribe)
    {
        // A sleeping wheel's clock is behind the real one: catch up first, so the new tick's first
        // slot counts from now.
        if (!_manual) Deliver(_schedule.AdvanceTo(WallSlot()));
        _schedule.Add(subscribe.Subscriber, subscribe.Message, SlotsIn(subscribe.Every, _slot));
        if (_watched.Add(subscribe.Subscriber)) Context.Watch(subscribe.Subscriber);
        if (_schedule.DueOf(subscribe.Subscriber, subscribe.Message) is { } due && (_armedFor is null || due < _armedFor)) Arm(due);
    }

    /// <summary>A manual wheel turns one slot; one on its own catches up with the clock, then sleeps until the next tick is due.</summary>
    private void OnAdvance()
    {
        var due = _manual ? _schedule.Advance() : _schedule.AdvanceTo(WallSlot());
        Deliver(due);
        var fromTimer = Sender.IsNobody() || Sender.Equals(Self);
        if (!fromTimer) Sender.Tell(new Advanced(_schedule.Now, due.Count));
        if (_manual) return;
        if (fromTimer) _wakeups++;
        _armedFor = null;
        if (_schedule.NextDue() is { } next) Arm(next);
        else Timers.Cancel(Advance.Instance);
    }

    private void Deliver(IReadOnlyList<(IActorRef Subscriber, object Message)> due)
    {
        foreach (var (subscriber, message) in due) subscriber.Tell(message, Self);
    }

    private long WallSlot() => (long)(System.Diagnostics.Stopwatch.GetElapsedTime(_started) / _slot);

    /// <summary>Sets the one timer for the start of <paramref name="slot"/> (a millisecond after, so it never wakes a hair early).</summary>
    private void Arm(long slot)
    {
        if (_manual) return;
        _armedFor = slot;
        var delay = slot * _slot - System.Diagnostics.Stopwatch.GetElapsedTime(_started) + TimeSpan.FromMilliseconds(1);
        Timers.StartSingleTimer(Advance.Instance, Advance.Instance, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    private void Forget(IActorRef subscriber)
    {
        if (_watched.Remove(subscriber)) Context.Unwatch(subscriber);
    }

    private void StopWhenEmpty()
    {
        if (_schedule.Count > 0) return;
        Timers.Cancel(Advance.Instance);
        _armedFor = null;
    }
}
