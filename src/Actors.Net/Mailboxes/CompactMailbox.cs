using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Actors.Net.Mailboxes;

/// <summary>
/// An unbounded FIFO mailbox that costs almost nothing while its actor is idle. Akka's default
/// (<see cref="UnboundedMailbox"/>) is a <c>ConcurrentQueue</c> whose first segment holds 32
/// envelopes from the start (~0.8 KiB with the segment and queue objects) and never gives it
/// back; a process of 1,000 peers has ~8,000 connection actors (ours and Akka.IO's), nearly all
/// idle. This one keeps a plain <see cref="Queue{T}"/> under a lock: empty it holds no array,
/// it grows with a burst and gives the array back once drained (see <see cref="CompactQueue"/>).
/// </summary>
/// <remarks>
/// Use it for a whole actor system with <see cref="ForWholeSystem"/> (a process of many peers
/// does). Same semantics as the default: unbounded, FIFO, system messages apart. The price is a
/// lock per message instead of the default queue's lock-free one, so systems that move bulk data
/// through few actors keep the default.
/// </remarks>
public sealed class CompactMailbox : MailboxType, IProducesMessageQueue<CompactQueue>
{
    private static readonly string TypeName = $"{typeof(CompactMailbox).FullName}, {typeof(CompactMailbox).Assembly.GetName().Name}";

    /// <summary>
    /// HOCON that puts every actor of a system on this mailbox: the default one, and the one Akka
    /// gives actors that ask for an unbounded queue by type (Akka.IO's connection actors do).
    /// </summary>
    public static readonly string ForWholeSystem = $"""
        akka.actor.default-mailbox.mailbox-type = "{TypeName}"
        akka.actor.mailbox.unbounded-queue-based.mailbox-type = "{TypeName}"
        """;

    /// <summary>Made by Akka (reflection, the constructor every <see cref="MailboxType"/> has), once per system.</summary>
    public CompactMailbox(Settings settings, Config config) : base(settings, config) { }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactQueue();
}

/// <summary>
/// The queue of <see cref="CompactMailbox"/>. Enqueue runs on any thread (every sender), dequeue
/// on the actor's; an uncontended lock costs about what the default queue's interlocked
/// operations do, and a contended one is held for a few instructions.
/// </summary>
public sealed class CompactQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    /// <summary>A drained queue whose array grew beyond this gives it back (an envelope is 16 bytes).</summary>
    public const int KeptCapacity = 16;

    /// <summary>
    /// At most one give-back a second: a busy actor (a connection sending a file) drains and fills
    /// again many times a second, and would otherwise regrow its array after every burst.
    /// </summary>
    private static readonly long TrimEvery = System.Diagnostics.Stopwatch.Frequency;

    private readonly Lock _lock = new();
    private readonly Queue<Envelope> _queue = new();
    private long _trimmedAt;
    /// <summary>Read without the lock by the dispatcher (<see cref="HasMessages"/>), written under it.</summary>
    private volatile int _count;

    public bool HasMessages => _count > 0;

    public int Count => _count;

    /// <summary>Envelopes the queue's array holds room for (0: none held).</summary>
    public int Capacity
    {
        get { lock (_lock) return _queue.Capacity; }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_lock)
        {
            _queue.Enqueue(envelope);
            _count = _queue.Count;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_lock)
        {
            if (!_queue.TryDequeue(out envelope)) return false;
            _count = _queue.Count;
            // After a burst (a piece's blocks, a flood of haves) the array would stay as big as the
            // burst for the actor's whole life: give it back once drained (an idle connection still
            // gets a tick every few seconds, so it drains again after the burst).
            if (_count == 0 && _queue.Capacity > KeptCapacity)
            {
                var now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (now - _trimmedAt >= TrimEvery)
                {
                    _queue.TrimExcess();
                    _trimmedAt = now;
                }
            }
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
