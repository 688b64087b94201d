using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace Actors.Torrent.Peer.Connections;

/// <summary>
/// The peer process's default mailbox (<c>config/peer.conf</c>): unbounded like Akka's, but an
/// empty one costs ~100 bytes instead of ~1.1 KiB. Akka's <see cref="UnboundedMessageQueue"/>
/// is a <c>ConcurrentQueue</c> whose first segment holds 32 envelopes from the start; with two
/// actors per connection (ours and Akka.IO's) that was 2 KiB of every idle connection. This one
/// is a plain queue under a lock that grows on demand and gives a burst's capacity back once it
/// has drained, so thousands of idle actors hold almost nothing.
/// </summary>
public sealed class CompactMailbox : MailboxType, IProducesMessageQueue<CompactMessageQueue>
{
    public CompactMailbox(Settings settings, Config config) : base(settings, config)
    {
    }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new CompactMessageQueue();
}

/// <summary>An unbounded FIFO queue under a lock; see <see cref="CompactMailbox"/>.</summary>
public sealed class CompactMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    /// <summary>A queue that grew beyond this is shrunk again once empty (a bulk transfer's burst is not kept).</summary>
    private const int KeepCapacity = 16;
    private readonly Queue<Envelope> _queue = new();
    private volatile int _count;
    private bool _grown;

    public bool HasMessages => _count > 0;

    public int Count => _count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_queue)
        {
            _queue.Enqueue(envelope);
            _count = _queue.Count;
            if (_count > KeepCapacity) _grown = true;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_queue)
        {
            if (!_queue.TryDequeue(out envelope)) return false;
            _count = _queue.Count;
            if (_count == 0 && _grown)
            {
                _queue.TrimExcess();
                _grown = false;
            }
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
