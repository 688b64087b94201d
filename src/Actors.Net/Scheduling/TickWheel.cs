using Akka.Actor;

namespace Actors.Net.Scheduling;

/// <summary>
/// One periodic timer for many actors' periodic ticks: a process with thousands of torrents and
/// connections (each with its choke round, connect tick, keep-alive check...) would otherwise
/// hold thousands of timers, each waking a thread-pool thread on its own. The wheel turns one
/// slot (<c>slot</c>, e.g. 100 ms) per timer tick and tells each subscriber whose tick is due in
/// that slot its message, so the process wakes at most once per slot, and ticks with the same
/// period are spread evenly over it (<see cref="TickSchedule{TSubscriber}"/>), never all at once.
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
    public sealed record WheelStats(int Ticks, int Subscribers, bool Turning);

    private readonly TickSchedule<IActorRef> _schedule = new();
    private readonly HashSet<IActorRef> _watched = new();
    private readonly TimeSpan _slot;
    private readonly bool _manual;

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
        Receive<GetStats>(_ => Sender.Tell(new WheelStats(_schedule.Count, _watched.Count, Timers.IsTimerActive(Advance.Instance))));
    }

    /// <summary>Slots in <paramref name="every"/>, rounded up, at least one.</summary>
    public static int SlotsIn(TimeSpan every, TimeSpan slot) => (int)Math.Clamp(Math.Ceiling(every.Ticks / (double)slot.Ticks), 1, int.MaxValue);

    private void OnSubscribe(Subscribe subscribe)
    {
        _schedule.Add(subscribe.Subscriber, subscribe.Message, SlotsIn(subscribe.Every, _slot));
        if (_watched.Add(subscribe.Subscriber)) Context.Watch(subscribe.Subscriber);
        if (!_manual && !Timers.IsTimerActive(Advance.Instance))
            Timers.StartPeriodicTimer(Advance.Instance, Advance.Instance, _slot);
    }

    private void OnAdvance()
    {
        var due = _schedule.Advance();
        foreach (var (subscriber, message) in due) subscriber.Tell(message, Self);
        if (!Sender.IsNobody() && !Sender.Equals(Self)) Sender.Tell(new Advanced(_schedule.Now, due.Count));
    }

    private void Forget(IActorRef subscriber)
    {
        if (_watched.Remove(subscriber)) Context.Unwatch(subscriber);
    }

    private void StopWhenEmpty()
    {
        if (_schedule.Count == 0) Timers.Cancel(Advance.Instance);
    }
}
