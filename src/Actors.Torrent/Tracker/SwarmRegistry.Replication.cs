using Actors.Net.Telemetry;
using Actors.Torrent.Telemetry;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;
using static Actors.Torrent.Tracker.TrackerWire;

namespace Actors.Torrent.Tracker;

public sealed partial class SwarmRegistry
{
    private void ScheduleReplicaFlush(Address to, ReplicaStream stream)
    {
        // At the bound, an acknowledgement sends what collected meanwhile.
        if (stream.InFlight.Count >= _settings.ReplicaBatchesInFlight) return;
        if (stream.Changes.Count >= _settings.ReplicaBatchMax) { Flush(stream); return; }
        if (stream.FlushScheduled) return;
        stream.FlushScheduled = true;
        // Behind the messages already in the mailbox, so announces that arrived together share a batch.
        Self.Tell(new FlushReplicas(to));
    }

    private void OnFlushReplicas(FlushReplicas flush)
    {
        if (!_streams.TryGetValue(flush.To, out var stream)) return;
        stream.FlushScheduled = false;
        if (stream.InFlight.Count < _settings.ReplicaBatchesInFlight) Flush(stream);
    }

    private void Flush(ReplicaStream stream)
    {
        if (stream.Changes.Count == 0) return;
        // Big batches go in several messages (each below the remoting frame); the holder applies
        // them in order, so the acknowledgement of the last covers all. They leave at once, in one
        // remote message with what this node had queued for that registry: with two nodes each
        // streaming to the other, its acknowledgement of their batch rides with our batch.
        var batch = new InFlightBatch(stream.Changes, stream.Waiters, NowMs());
        foreach (var chunk in stream.Changes.Chunk(_settings.ReplicaBatchMax))
        {
            batch.LastId = ++_nextId;
            Send(stream.To, new ReplicaBatch(batch.LastId, chunk));
        }
        OnFlushOutbox(new FlushOutbox(stream.To));
        TrackerMetrics.ReplicaBatches.Add(1);
        TrackerMetrics.ReplicaChanges.Add(stream.Changes.Count);
        stream.Changes = [];
        stream.Waiters = [];
        stream.InFlight.Enqueue(batch);
    }

    /// <summary>
    /// Another holder's changes, applied newest-wins whatever this node's view says (a holder whose
    /// view does not count us yet still streams to us once ours counts it: what it answered is here).
    /// </summary>
    private void OnReplicaBatch(ReplicaBatch batch)
    {
        foreach (var change in batch.Changes) _store.Apply(change);
        Send(Sender, new ReplicaAck(batch.Id));
    }

    private void OnReplicaAck(ReplicaAck ack)
    {
        var holder = Sender.Path.Address;
        if (!_streams.TryGetValue(holder, out var stream)) return;
        // Acknowledgements come in the order the batches left (one remoting link, applied in
        // order); one for a batch already given up on (timed out) matches none still in flight.
        var completed = false;
        var now = NowMs();
        while (stream.InFlight.TryPeek(out var batch) && batch.LastId <= ack.Id)
        {
            Complete(stream.InFlight.Dequeue());
            TrackerMetrics.ReplicaAcknowledged.Add(1);
            TrackerMetrics.ReplicaAckWait.Add(now - batch.SentAt);
            completed = true;
        }
        if (!completed) return;
        Flush(stream);
        if (stream.Unconfirmed.Count > 0) Repair(holder, stream);
    }

    /// <summary>
    /// A batch to this holder was not acknowledged within write-timeout: its announces were
    /// answered from this node's copy alone, and the batch may be lost (a link cut without either
    /// side's view changing: the Lab's <c>partition-heal</c> found it). Its partitions are remembered.
    /// </summary>
    private void TimedOut(Address holder, ReplicaStream stream)
    {
        _log.Warning("Holder {0} did not acknowledge within {1}; answering {2} announces from this node's copy alone (handed to it once it answers)",
            holder, _settings.WriteTimeout, stream.InFlight.Sum(b => b.Waiters.Count));
        while (stream.InFlight.TryDequeue(out var batch))
        {
            foreach (var change in batch.Changes) stream.Unconfirmed.Add(_store.PartitionOf(change.InfoHash));
            Complete(batch);
            TrackerMetrics.ReplicaTimeouts.Add(1);
        }
        Flush(stream);
    }

    /// <summary>
    /// The holder acknowledges again after batches to it timed out: the partitions they touched go
    /// to it as handovers (acknowledged, sent again when not, merged newest-wins, counts by maximum),
    /// so what was answered without it reaches it with no view change. Costs a snapshot of each such
    /// partition, as a view change would.
    /// </summary>
    private void Repair(Address holder, ReplicaStream stream)
    {
        var peers = 0;
        foreach (var partition in stream.Unconfirmed)
            if (_placement.Holds(partition, holder) && _store.HasData(partition))
                peers += StartHandover(new Handover(partition, holder, stream.To));
        _log.Info("Holder {0} acknowledges again: {1} partition(s) answered without it handed to it ({2} peers)", holder, stream.Unconfirmed.Count, peers);
        stream.Unconfirmed.Clear();
    }

    /// <summary>The holder holds the batch's changes (or was given up on): its announces may be answered.</summary>
    private void Complete(InFlightBatch batch)
    {
        foreach (var waiter in batch.Waiters) Acknowledged(waiter);
    }

    /// <summary>
    /// Changes for one other holder node: those collecting with the announces waiting for them,
    /// and the batches in flight (at most replica-batches-in-flight), oldest first.
    /// </summary>
    private sealed class ReplicaStream(IActorRef to)
    {
        public IActorRef To { get; } = to;
        public List<PeerChange> Changes { get; set; } = [];
        public List<Waiter> Waiters { get; set; } = [];
        public Queue<InFlightBatch> InFlight { get; } = new();
        /// <summary>Partitions whose batches timed out: handed to the holder when it acknowledges again.</summary>
        public HashSet<int> Unconfirmed { get; } = [];
        public bool FlushScheduled { get; set; }
    }

    /// <summary>
    /// A batch sent and not yet acknowledged: the id its acknowledgement carries, the announces it
    /// answers, and its changes, whose partitions are looked up only if the batch times out.
    /// </summary>
    private sealed class InFlightBatch(List<PeerChange> changes, List<Waiter> waiters, long sentAt)
    {
        public List<PeerChange> Changes { get; } = changes;
        public List<Waiter> Waiters { get; } = waiters;
        public long SentAt { get; } = sentAt;
        public long LastId { get; set; }
    }
}
