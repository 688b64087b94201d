using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Actors.Net.Udp;

/// <summary>
/// The message queue of a UDP handler (<see cref="DatagramMailbox"/>): FIFO and unbounded for
/// every message, except that it holds at most <see cref="Bound"/> <see cref="Akka.IO.Udp.Received"/> at
/// once. A datagram that arrives while that many wait is dropped and counted — what an overloaded
/// kernel does with its socket buffer; UDP is lossy by contract. Commands, <c>Udp.Bound</c>,
/// timers, replies and system messages are never dropped (system messages do not pass through
/// here at all).
/// </summary>
/// <remarks>
/// Akka.IO's UDP listener reads as fast as the kernel delivers and has no pull mode
/// (<c>Udp.SuspendReading</c> does nothing in 1.5), so without this a flood faster than the
/// handler queues without limit. Enqueue runs on the sender's thread (the listener's), dequeue on
/// the owner's; the datagram count is kept with <see cref="Interlocked"/>, so the bound holds
/// exactly even with several senders. Deque-capable (<see cref="EnqueueFirst"/>, used by
/// <c>Stash.UnstashAll</c>, owner's thread only) like Akka's <c>UnboundedDequeMessageQueue</c>, so
/// actors with <c>IWithStash</c> can use it; a datagram put back from the stash is never dropped.
/// </remarks>
public sealed class DatagramQueue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
{
    private readonly ConcurrentQueue<Envelope> _queue = new();
    private readonly Stack<Envelope> _front = new(); // unstashed messages: owner's thread only
    private readonly Action<long>? _onDrop;
    private int _datagrams;
    private long _dropped;

    /// <param name="bound">The most datagrams waiting at once (at least 1).</param>
    /// <param name="onDrop">Called on the enqueuing thread after each drop with the total so far (log it rarely).</param>
    public DatagramQueue(int bound, Action<long>? onDrop = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        Bound = bound;
        _onDrop = onDrop;
    }

    public int Bound { get; }

    /// <summary>Datagrams dropped because <see cref="Bound"/> were already waiting, since the queue was made.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary><see cref="Akka.IO.Udp.Received"/> messages waiting now.</summary>
    public int QueuedDatagrams => Volatile.Read(ref _datagrams);

    public bool HasMessages => _front.Count > 0 || !_queue.IsEmpty;

    public int Count => _queue.Count + _front.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        if (envelope.Message is Akka.IO.Udp.Received && Interlocked.Increment(ref _datagrams) > Bound)
        {
            Interlocked.Decrement(ref _datagrams);
            var total = Interlocked.Increment(ref _dropped); // not inside ?.Invoke: it would not count without a callback
            _onDrop?.Invoke(total);
            return;
        }
        _queue.Enqueue(envelope);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (!(_front.TryPop(out envelope) || _queue.TryDequeue(out envelope))) return false;
        if (envelope.Message is Akka.IO.Udp.Received) Interlocked.Decrement(ref _datagrams);
        return true;
    }

    public void EnqueueFirst(Envelope envelope)
    {
        if (envelope.Message is Akka.IO.Udp.Received) Interlocked.Increment(ref _datagrams);
        _front.Push(envelope);
    }

    /// <summary>
    /// When the owner stops: datagrams still waiting are let go (their socket is closing with its
    /// owner; thousands of dead-letter lines would say nothing), other messages go to dead letters
    /// as in Akka's own queues.
    /// </summary>
    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
            if (envelope.Message is not Akka.IO.Udp.Received) deadletters.Enqueue(owner, envelope);
    }
}
