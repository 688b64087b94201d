using System.Diagnostics;
using Actors.Net.Logging;
using Actors.Net.Tcp;
using Akka.Actor;

namespace Actors.Torrent.Peer.Connections;

/// <summary>
/// The sockets every torrent of one process shares (<c>actors peer --count N</c> runs N torrents):
/// a ceiling on open connections (never above what the descriptor limit allows), on half-open
/// connects and on connects per second, and a fair share per torrent, so N peers in one process
/// use about <see cref="Capacity"/> sockets instead of N². When the machine runs out anyway
/// (EMFILE, no free ports) every dial pauses for a back-off that doubles up to
/// <see cref="ConnectionLimits.MaxBackoff"/>, and the warning is logged once per interval.
/// <para>
/// A plain thread-safe object, like <see cref="Actors.Net.RateLimit.TokenBucket"/>: connection
/// actors take and give back slots from their own threads, with no message hop per connect.
/// Each <see cref="PeerConnection"/> holds at most one slot and returns it in PostStop.
/// </para>
/// <para>
/// A torrent refused a dial asks to be woken (<see cref="WakeWhenDialSlotFrees"/>) and is told
/// <see cref="DialSlotFree"/> when a slot comes back, one torrent per slot, in the order they
/// asked: without it a torrent that learnt its peers while the others' connects filled the
/// half-open limit waited for its next connect tick (3 s) with no connection at all, and started
/// the swarm that much behind (one leecher in two runs of 20 did, in a 20-second swarm).
/// </para>
/// </summary>
public sealed class ConnectionBudget
{
    private readonly ConnectionLimits _limits;
    private readonly int? _descriptorLimit;
    private readonly int _descriptorsInUse;
    private readonly Func<long> _clock;
    private readonly Lock _lock = new();
    private int _open, _halfOpen, _torrents;
    private double _connectTokens;
    private long _lastRefill, _pausedUntil, _backoffTicks;
    private long _dialsDenied, _inboundRefused, _exhaustions;
    // Torrents refused a dial, oldest first; the set says who still waits (one who stopped is dropped from it only).
    private readonly Queue<IActorRef> _waitingQueue = new();
    private readonly HashSet<IActorRef> _waiting = [];

    /// <summary>Told to a torrent that asked <see cref="WakeWhenDialSlotFrees"/>: dial now, a slot came back.</summary>
    public sealed class DialSlotFree
    {
        public static readonly DialSlotFree Instance = new();
        private DialSlotFree() { }
    }

    /// <param name="descriptorLimit">The process's descriptor limit; null reads it (<see cref="DescriptorLimit.Current"/>).</param>
    /// <param name="descriptorsInUse">Descriptors the process already holds (runtime, assemblies, logs); null counts them.</param>
    /// <param name="clock">Stopwatch timestamps (tests pass their own).</param>
    public ConnectionBudget(ConnectionLimits limits, int? descriptorLimit = null, int? descriptorsInUse = null, Func<long>? clock = null)
    {
        _limits = limits;
        _descriptorLimit = descriptorLimit ?? DescriptorLimit.Current();
        _descriptorsInUse = descriptorsInUse ?? (descriptorLimit is null ? DescriptorLimit.OpenNow() : 0);
        _clock = clock ?? Stopwatch.GetTimestamp;
        _lastRefill = _clock();
        _connectTokens = limits.ConnectsPerSecond;
    }

    /// <summary>A budget of its own for a torrent that is given none (tests, a single torrent).</summary>
    public static ConnectionBudget Unshared() => new(ConnectionLimits.Default);

    public ConnectionLimits Limits => _limits;

    /// <summary>One warning line per interval, shared by every torrent of the process.</summary>
    public LogEvery ExhaustionLog { get; } = new(TimeSpan.FromSeconds(10));
    public LogEvery RefusalLog { get; } = new(TimeSpan.FromSeconds(10));

    /// <summary>Sockets the process may hold now: the configured ceiling, lowered to what the descriptor limit leaves.</summary>
    public int Capacity
    {
        get
        {
            lock (_lock) return CapacityLocked();
        }
    }

    private int CapacityLocked()
    {
        var capacity = _limits.MaxConnections > 0 ? _limits.MaxConnections : int.MaxValue;
        if (_descriptorLimit is { } fds)
        {
            // What is already open, plus headroom: the runtime still opens files (assemblies load
            // lazily; one that cannot be opened fails the actor that needed it). A small limit (a
            // test's ulimit) keeps a quarter as headroom rather than the whole reserve.
            var headroom = Math.Max(32, Math.Min(_limits.ReservedDescriptors, fds / 4));
            capacity = Math.Min(capacity, fds - _descriptorsInUse - headroom - _torrents * _limits.DescriptorsPerTorrent);
        }
        if (capacity == int.MaxValue) capacity = 10_000; // no limit known: stay reasonable
        return Math.Max(capacity, _limits.MinPeersPerTorrent);
    }

    /// <summary>
    /// Inbound connections accepted above the capacity: a process whose peers filled its budget
    /// among themselves (1,000 leechers in one process, 4 connections each) still lets in peers
    /// from elsewhere, such as a seeder that starts late; each torrent then decides (on probation,
    /// shedding a useless connection if the newcomer has pieces it wants). Without it a 1,000-peer
    /// Lab swarm refused every connection of its seeder (2,328 refusals in 10 s) until leechers
    /// re-announced and dialled it themselves, ~10 s later. None for a small budget.
    /// </summary>
    public int InboundReserve { get { lock (_lock) return ReserveFor(CapacityLocked()); } }

    private static int ReserveFor(int capacity) => capacity >= 256 ? Math.Min(64, capacity / 16) : 0;

    public int Open { get { lock (_lock) return _open; } }
    public int HalfOpen { get { lock (_lock) return _halfOpen; } }
    public int Torrents { get { lock (_lock) return _torrents; } }

    public BudgetStats Stats()
    {
        lock (_lock) return new BudgetStats(CapacityLocked(), _open, _halfOpen, _torrents, _dialsDenied, _inboundRefused, _exhaustions);
    }

    public void AddTorrent()
    {
        lock (_lock) _torrents++;
    }

    public void RemoveTorrent()
    {
        lock (_lock) _torrents = Math.Max(0, _torrents - 1);
    }

    /// <summary>
    /// Connections one torrent should aim for: its share of the capacity (every connection between
    /// two of our torrents costs a socket at each end), never more than <paramref name="maxPeers"/>
    /// and never fewer than <see cref="ConnectionLimits.MinPeersPerTorrent"/>.
    /// </summary>
    public int FairShare(int maxPeers)
    {
        lock (_lock)
        {
            var share = CapacityLocked() / Math.Max(1, _torrents);
            return Math.Clamp(share, Math.Min(_limits.MinPeersPerTorrent, maxPeers), Math.Max(1, maxPeers));
        }
    }

    /// <summary>True when nine tenths of the capacity are in use: torrents then keep only useful connections.</summary>
    public bool IsTight
    {
        get
        {
            lock (_lock) return (_open + _halfOpen) * 10 >= CapacityLocked() * 9;
        }
    }

    /// <summary>Time left before dials may resume after the machine ran out; zero when not paused.</summary>
    public TimeSpan PausedFor
    {
        get
        {
            lock (_lock)
            {
                var left = _pausedUntil - _clock();
                return left > 0 ? TimeSpan.FromSeconds((double)left / Stopwatch.Frequency) : TimeSpan.Zero;
            }
        }
    }

    /// <summary>Takes a half-open slot for one outgoing connect, if the budget, the half-open limit, the connect rate and any back-off allow.</summary>
    public bool TryStartDial()
    {
        lock (_lock)
        {
            var now = _clock();
            Refill(now);
            // With an inbound reserve, a dial leaves room for its other end inside the capacity:
            // in a process of many peers that end is often ours, and would otherwise take the
            // reserve kept for peers from elsewhere.
            var capacity = CapacityLocked(); // reads the descriptor figures once
            var ends = ReserveFor(capacity) > 0 ? 2 : 1;
            if (now < _pausedUntil || _halfOpen >= _limits.MaxHalfOpen || _open + _halfOpen + ends > capacity || _connectTokens < 1)
            {
                _dialsDenied++;
                return false;
            }
            _connectTokens--;
            _halfOpen++;
            return true;
        }
    }

    /// <summary>
    /// After a refused <see cref="TryStartDial"/>: <paramref name="torrent"/> is told
    /// <see cref="DialSlotFree"/> once when a half-open or open slot comes back (asking again while
    /// waiting changes nothing). Its periodic connect tick stays the fallback for refusals that
    /// only time lifts (the connect rate, a back-off).
    /// </summary>
    public void WakeWhenDialSlotFrees(IActorRef torrent)
    {
        lock (_lock)
            if (_waiting.Add(torrent)) _waitingQueue.Enqueue(torrent);
    }

    /// <summary>A torrent that stops no longer waits.</summary>
    public void StopWaiting(IActorRef torrent)
    {
        lock (_lock) _waiting.Remove(torrent);
    }

    /// <summary>Torrents waiting to be woken (for tests and stats).</summary>
    public int WaitingForDial { get { lock (_lock) return _waiting.Count; } }

    /// <summary>A dial connected: its half-open slot becomes an open one. A success also ends any back-off.</summary>
    public void DialConnected()
    {
        IActorRef? wake;
        lock (_lock)
        {
            _halfOpen--;
            _open++;
            _backoffTicks = 0;
            wake = NextWaiterLocked();
        }
        wake?.Tell(DialSlotFree.Instance);
    }

    /// <summary>A dial failed or was abandoned before connecting.</summary>
    public void DialEnded()
    {
        IActorRef? wake;
        lock (_lock)
        {
            _halfOpen--;
            wake = NextWaiterLocked();
        }
        wake?.Tell(DialSlotFree.Instance);
    }

    private IActorRef? NextWaiterLocked()
    {
        while (_waitingQueue.TryDequeue(out var next))
            if (_waiting.Remove(next)) return next;
        return null;
    }

    /// <summary>Takes an open slot for an accepted connection; false when the budget and its <see cref="InboundReserve"/> are spent (close it at once).</summary>
    public bool TryAccept()
    {
        lock (_lock)
        {
            var capacity = CapacityLocked();
            if (_open + _halfOpen >= capacity + ReserveFor(capacity))
            {
                _inboundRefused++;
                return false;
            }
            _open++;
            return true;
        }
    }

    /// <summary>An open connection (accepted or dialled) closed.</summary>
    public void Closed()
    {
        IActorRef? wake;
        lock (_lock)
        {
            _open--;
            wake = NextWaiterLocked();
        }
        wake?.Tell(DialSlotFree.Instance);
    }

    /// <summary>
    /// The machine ran out (no descriptors, no ports): pause every dial of the process, 1 s at
    /// first, doubling while it keeps happening, up to <see cref="ConnectionLimits.MaxBackoff"/>.
    /// </summary>
    /// <returns>How long dials now pause.</returns>
    public TimeSpan ReportExhausted()
    {
        lock (_lock)
        {
            var now = _clock();
            _exhaustions++;
            if (now < _pausedUntil) return TimeSpan.FromSeconds((double)(_pausedUntil - now) / Stopwatch.Frequency);
            var max = (long)(_limits.MaxBackoff.TotalSeconds * Stopwatch.Frequency);
            _backoffTicks = _backoffTicks == 0 ? Stopwatch.Frequency : Math.Min(max, _backoffTicks * 2);
            _pausedUntil = now + _backoffTicks;
            return TimeSpan.FromSeconds((double)_backoffTicks / Stopwatch.Frequency);
        }
    }

    private void Refill(long now)
    {
        var elapsed = (double)(now - _lastRefill) / Stopwatch.Frequency;
        _lastRefill = now;
        _connectTokens = Math.Min(_limits.ConnectsPerSecond, _connectTokens + elapsed * _limits.ConnectsPerSecond);
    }
}

/// <summary>A snapshot of a <see cref="ConnectionBudget"/>, for progress lines, the Lab and tests.</summary>
public sealed record BudgetStats(int Capacity, int Open, int HalfOpen, int Torrents, long DialsDenied, long InboundRefused, long Exhaustions);
