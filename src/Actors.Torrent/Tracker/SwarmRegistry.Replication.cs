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
        if (stream.InFlightId != 0) return; // the acknowledgement sends what collected meanwhile
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
        if (stream.InFlightId == 0) Flush(stream);
    }

    private void Flush(ReplicaStream stream)
    {
        if (stream.Changes.Count == 0) return;
        // Big batches go in several messages (each below the remoting frame); the holder applies
        // them in order, so the acknowledgement of the last covers all. They leave at once, in one
        // remote message with what this node had queued for that registry: with two nodes each
        // streaming to the other, its acknowledgement of their batch rides with our batch.
        stream.InFlightPartitions.Clear();
        foreach (var change in stream.Changes) stream.InFlightPartitions.Add(_store.PartitionOf(change.InfoHash));
        foreach (var chunk in stream.Changes.Chunk(_settings.ReplicaBatchMax))
        {
            stream.InFlightId = ++_nextId;
            Send(stream.To, new ReplicaBatch(stream.InFlightId, chunk));
        }
        OnFlushOutbox(new FlushOutbox(stream.To));
        stream.Changes = [];
        (stream.InFlight, stream.Waiters) = (stream.Waiters, stream.InFlight);
        stream.SentAt = NowMs();
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
        if (!_streams.TryGetValue(holder, out var stream) || stream.InFlightId != ack.Id) return;
        CompleteInFlight(stream);
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
            holder, _settings.WriteTimeout, stream.InFlight.Count);
        stream.Unconfirmed.UnionWith(stream.InFlightPartitions);
        CompleteInFlight(stream);
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

    private void CompleteInFlight(ReplicaStream stream)
    {
        stream.InFlightId = 0;
        var done = stream.InFlight;
        stream.InFlight = [];
        foreach (var waiter in done) Acknowledged(waiter);
        done.Clear();
        stream.InFlight = done;
    }

    /// <summary>Changes for one other holder node: those collecting, and the batch in flight with the announces waiting for it.</summary>
    private sealed class ReplicaStream(IActorRef to)
    {
        public IActorRef To { get; } = to;
        public List<PeerChange> Changes { get; set; } = [];
        public List<Waiter> Waiters { get; set; } = [];
        public List<Waiter> InFlight { get; set; } = [];
        /// <summary>Partitions of the changes in flight.</summary>
        public HashSet<int> InFlightPartitions { get; } = [];
        /// <summary>Partitions whose batches timed out: handed to the holder when it acknowledges again.</summary>
        public HashSet<int> Unconfirmed { get; } = [];
        public long InFlightId { get; set; }
        public long SentAt { get; set; }
        public bool FlushScheduled { get; set; }
    }
}
