using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace Actors.Net.Scheduling;

/// <summary>
/// Akka's scheduler on .NET's own timer queue: every scheduled message or action is a
/// <see cref="Timer"/>, so an idle node wakes only when something is due. Akka's default
/// (<c>HashedWheelTimerScheduler</c>) ticks every <c>akka.scheduler.tick-duration</c> (10 ms) whether
/// or not anything is scheduled: 100 thread-pool wake-ups a second, most of an idle node's ~4.4% of a
/// core on this machine (src/Actors.Net/README.md, "Idle cost"). Raising the tick would have made
/// every timer coarser (a caller sends a media frame every 20 ms); here timers keep the timer
/// queue's ~1 ms resolution.
/// <para>
/// Selected with <c>akka.scheduler.implementation = "Actors.Net.Scheduling.TimerQueueScheduler, Actors.Net"</c>
/// (config/cluster.conf). Like Akka's own scheduler, disposing it (actor system shutdown) runs the
/// one-shot tasks still pending once, and stops repeating ones.
/// </para>
/// </summary>
public sealed class TimerQueueScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider, IDisposable
{
    private readonly ConcurrentDictionary<Entry, byte> _pending = new();
    private volatile bool _disposed;

    public TimerQueueScheduler(Config scheduler, ILoggingAdapter log) : base(scheduler, log) { }

    protected override DateTimeOffset TimeNow => DateTimeOffset.UtcNow;

    public override TimeSpan MonotonicClock => Clock.Elapsed();

    public override TimeSpan HighResMonotonicClock => Clock.ElapsedHighRes();

    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(delay, Timeout.InfiniteTimeSpan, new Tell(receiver, message, sender), cancelable);

    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(initialDelay, interval, new Tell(receiver, message, sender), cancelable);

    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Schedule(delay, Timeout.InfiniteTimeSpan, new ActionRunnable(action), cancelable);

    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Schedule(delay, Timeout.InfiniteTimeSpan, action, cancelable);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, new ActionRunnable(action), cancelable);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action, cancelable);

    private void Schedule(TimeSpan delay, TimeSpan interval, IRunnable task, ICancelable? cancelable)
    {
        if (_disposed) throw new SchedulerException("cannot schedule: the scheduler has been shut down");
        if (cancelable is { IsCancellationRequested: true }) return;
        var entry = new Entry(this, task, cancelable, repeating: interval != Timeout.InfiniteTimeSpan);
        _pending.TryAdd(entry, 0);
        entry.Start(delay, interval);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var entry in _pending.Keys)
        {
            if (!entry.TryStop()) continue;
            if (entry.Repeating || entry.Cancelled) continue;
            try { entry.Task.Run(); }
            catch (Exception e) { Log.Error(e, "Exception while running a scheduled task at shutdown"); }
        }
        _pending.Clear();
    }

    private sealed class Entry(TimerQueueScheduler owner, IRunnable task, ICancelable? cancelable, bool repeating)
    {
        private Timer? _timer;
        private CancellationTokenRegistration _registration;
        private int _stopped;

        public IRunnable Task { get; } = task;
        public bool Repeating { get; } = repeating;
        public bool Cancelled => cancelable is { IsCancellationRequested: true };

        public void Start(TimeSpan delay, TimeSpan interval)
        {
            // Created disarmed and armed last, so a zero delay cannot fire before the fields are set.
            // No ExecutionContext flows into the timer: a tell needs none, and capturing one costs.
            using (ExecutionContext.SuppressFlow())
                _timer = new Timer(static state => ((Entry)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (cancelable is not null)
                _registration = cancelable.Token.UnsafeRegister(static state => ((Entry)state!).TryStop(), this);
            try
            {
                if (Volatile.Read(ref _stopped) == 0) _timer.Change(delay, interval);
            }
            catch (ObjectDisposedException)
            {
                // Cancelled between the check and the arming: nothing to run.
            }
        }

        private void Fire()
        {
            if (Volatile.Read(ref _stopped) != 0) return;
            if (Cancelled)
            {
                TryStop();
                return;
            }
            if (!Repeating && !TryStop()) return;
            try
            {
                Task.Run();
            }
            catch (Exception e)
            {
                owner.Log.Error(e, "Exception while running a scheduled task");
            }
        }

        /// <summary>Stops the timer once; false if it was stopped already (fired, cancelled or disposed).</summary>
        public bool TryStop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0) return false;
            _timer?.Dispose();
            _registration.Dispose();
            owner._pending.TryRemove(this, out _);
            return true;
        }
    }

    /// <summary>
    /// Akka's own monotonic clock (internal to Akka), so this scheduler's clock has the same origin
    /// as the one Akka code compares it with; a stopwatch of our own if Akka ever moves it.
    /// </summary>
    private static class Clock
    {
        private static readonly long Start = System.Diagnostics.Stopwatch.GetTimestamp();
        public static readonly Func<TimeSpan> Elapsed = Read("Elapsed");
        public static readonly Func<TimeSpan> ElapsedHighRes = Read("ElapsedHighRes");

        private static Func<TimeSpan> Read(string property)
        {
            var getter = typeof(ActorSystem).Assembly.GetType("Akka.Util.MonotonicClock")
                ?.GetProperty(property, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)?.GetMethod;
            return getter?.ReturnType == typeof(TimeSpan)
                ? getter.CreateDelegate<Func<TimeSpan>>()
                : () => System.Diagnostics.Stopwatch.GetElapsedTime(Start);
        }
    }

    private sealed class Tell(ICanTell receiver, object message, IActorRef sender) : IRunnable
    {
        public void Run() => receiver.Tell(message, sender);

        public void Execute() => Run();
    }
}
