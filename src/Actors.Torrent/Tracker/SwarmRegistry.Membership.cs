using Actors.Net.Telemetry;
using Actors.Torrent.Telemetry;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;
using static Actors.Torrent.Tracker.TrackerWire;

namespace Actors.Torrent.Tracker;

/// <summary>The registry's view of the tracker nodes, the placement computed from it, and handovers when it changes.</summary>
public sealed partial class SwarmRegistry
{
    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        var address = e.Member.Address;
        if (e is ClusterEvent.MemberRemoved)
        {
            _members.Remove(address);
            _registries.Remove(address);
            _unreachable.Remove(address);
            _greetings.Remove(address);
            _trackerMembers.Remove(address);
        }
        else
        {
            _members[address] = e.Member.Status;
            if (e.Member.HasRole(TrackerNode.ClusterRole)) _trackerMembers.Add(address);
            if (e is ClusterEvent.MemberUp && !address.Equals(_self)) Greet(address);
        }
        Recompute();
    }

    private void Greet(Address address)
    {
        _greetings[address] = _greetings.GetValueOrDefault(address) + 1;
        Context.ActorSelection(new RootActorPath(address) / Self.Path.Elements).Tell(Hello.Instance);
    }

    /// <summary>
    /// Up members whose registry has not answered are greeted again (a lost Hello or Welcome would
    /// leave the two nodes with different views for good), a bounded number of times: a member
    /// that runs no tracker never answers.
    /// </summary>
    private void GreetSilentMembers()
    {
        foreach (var (address, status) in _members)
            if (status == MemberStatus.Up && !address.Equals(_self) && !_registries.ContainsKey(address)
                && !_unreachable.Contains(address) && _greetings.GetValueOrDefault(address) < MaxGreetings)
                Greet(address);
    }

    private void OnHello(bool reply)
    {
        var address = Sender.Path.Address;
        if (address.Equals(_self) || address.HasLocalScope) return;
        _registries[address] = Sender;
        if (reply) Sender.Tell(Welcome.Instance);
        Recompute();
    }

    private void Recompute()
    {
        UpdatePlacement();
        if (!_settled) Settle();
    }

    private void UpdatePlacement()
    {
        var view = _members
            .Where(m => m.Value == MemberStatus.Up && !_unreachable.Contains(m.Key) && (m.Key.Equals(_self) || _registries.ContainsKey(m.Key)))
            .Select(m => m.Key).ToList();
        if (view.Count == 0) view.Add(_self);
        var next = Placement.Compute(view, _settings.Partitions, _settings.Replicas);
        if (next.Nodes.SequenceEqual(_placement.Nodes)) return;
        var previous = _placement;
        _placement = next;

        // Handovers to a node that is no longer a holder of their partition are moot.
        foreach (var key in _handovers.Keys.Where(k => !next.Holds(k.Partition, k.To)).ToList()) CancelHandover(key);

        var sent = 0;
        for (var p = 0; p < _settings.Partitions; p++)
        {
            if (!_store.HasData(p)) continue;
            // An old holder that lets the partition go (and is still in the view) hands the state
            // to each new holder, and keeps it until they acknowledged; else the first old holder
            // still in the view (it keeps the partition anyway).
            var sender = previous.Holders(p).FirstOrDefault(a => next.Nodes.Contains(a) && !next.Holds(p, a))
                ?? previous.Holders(p).FirstOrDefault(a => next.Nodes.Contains(a)) ?? next.Owner(p);
            if (!sender.Equals(_self)) continue;
            foreach (var holder in next.Holders(p))
                if (!holder.Equals(_self) && !previous.Holds(p, holder) && !_handovers.ContainsKey((p, holder))
                    && _registries.TryGetValue(holder, out var registry))
                    sent += StartHandover(new Handover(p, holder, registry));
        }

        // Replica streams to nodes that left the view: their waiters are answered (held here).
        foreach (var (address, stream) in _streams.Where(s => !next.Nodes.Contains(s.Key)).ToList())
        {
            _streams.Remove(address);
            while (stream.InFlight.TryDequeue(out var batch)) Complete(batch);
            foreach (var waiter in stream.Waiters) Acknowledged(waiter);
        }
        // Forwards waiting on a node that no longer owns their partition go to the new owner.
        foreach (var (id, forward) in _forwards.Where(f => !next.Owner(f.Value.Partition).Equals(f.Value.To)).ToList())
        {
            _forwards.Remove(id);
            Route(forward.Request, forward.ReplyTo, forward.Correlation);
        }

        var status = Status();
        _log.Info("Tracker view: {0} node(s) [{1}]; this node owns {2} and backs up {3} of {4} partitions; handing over {5} peers",
            view.Count, string.Join(", ", next.Nodes), status.Owned, status.BackedUp, _settings.Partitions, sent);
    }

    // ---------------------------------------------------------------- handover (acknowledged)

    /// <summary>
    /// Sends a partition's current state to a new holder, every chunk under its own id; the holder
    /// acknowledges each chunk once merged. Returns the peers sent.
    /// </summary>
    private int StartHandover(Handover handover)
    {
        var key = (handover.Partition, handover.To);
        if (_handovers.TryGetValue(key, out var old))
            foreach (var id in old.Outstanding) _handoverChunks.Remove(id);
        _handovers[key] = handover;
        handover.Outstanding.Clear();
        handover.Attempts++;
        handover.SentAt = NowMs();
        var peers = 0;
        foreach (var (chunk, downloads) in _store.Snapshot(handover.Partition, _settings.SnapshotChunk))
        {
            var id = ++_nextId;
            handover.Outstanding.Add(id);
            _handoverChunks[id] = key;
            handover.Registry.Tell(new PartitionSnapshot(id, handover.Partition, chunk, downloads));
            peers += chunk.Length;
        }
        if (handover.Outstanding.Count == 0) _handovers.Remove(key); // nothing left to hand over
        return peers;
    }

    private void CancelHandover((int Partition, Address To) key)
    {
        if (!_handovers.Remove(key, out var handover)) return;
        foreach (var id in handover.Outstanding) _handoverChunks.Remove(id);
    }

    private void OnSnapshot(PartitionSnapshot snapshot)
    {
        // Merged newest-wins, so a chunk sent again (the acknowledgement was lost) changes nothing.
        foreach (var peer in snapshot.Peers) _store.Apply(peer);
        foreach (var downloads in snapshot.Downloads) _store.Merge(downloads);
        // A view behind the sender's may not count this node a holder yet: the grace starts again.
        _released.Remove(snapshot.Partition);
        _flushed.Remove(snapshot.Partition);
        Sender.Tell(new HandoverAck(snapshot.Id));
    }

    private void OnHandoverAck(HandoverAck ack)
    {
        if (!_handoverChunks.Remove(ack.Id, out var key) || !_handovers.TryGetValue(key, out var handover)) return;
        handover.Outstanding.Remove(ack.Id);
        if (handover.Outstanding.Count > 0) return;
        _handovers.Remove(key);
        _log.Debug("Handover of partition {0} to {1} acknowledged after {2} attempt(s)", key.Partition, key.To, handover.Attempts);
    }

    /// <summary>
    /// Handovers not fully acknowledged within handover-timeout are sent again, whole and fresh
    /// (merging makes repeats harmless), up to handover-attempts times; then given up with a warning
    /// (the peers come back with their next announce, within one interval).
    /// </summary>
    private void RetryHandovers(long now)
    {
        foreach (var (key, handover) in _handovers.Where(h => now - h.Value.SentAt > (long)_settings.HandoverTimeout.TotalMilliseconds).ToList())
        {
            if (!_placement.Holds(key.Partition, key.To) || !_registries.TryGetValue(key.To, out var registry))
            {
                CancelHandover(key);
                continue;
            }
            if (handover.Attempts >= _settings.HandoverAttempts)
            {
                _log.Warning("Handover of partition {0} to {1} not acknowledged after {2} attempts; given up (its peers return with their next announce)",
                    key.Partition, key.To, handover.Attempts);
                CancelHandover(key);
                continue;
            }
            handover.Registry = registry;
            var peers = StartHandover(handover);
            _log.Info("Handover of partition {0} to {1} not acknowledged within {2}; sent again ({3} peers, attempt {4})",
                key.Partition, key.To, _settings.HandoverTimeout, peers, handover.Attempts);
        }
    }

    /// <summary>Whether this node still waits for a holder to acknowledge a partition it sent.</summary>
    private bool HandingOver(int partition) => _handovers.Keys.Any(k => k.Partition == partition);

    private RegistryStatus Status()
    {
        int owned = 0, backedUp = 0;
        for (var p = 0; p < _settings.Partitions; p++)
        {
            if (_placement.Owner(p).Equals(_self)) owned++;
            else if (_placement.Holds(p, _self)) backedUp++;
        }
        return new RegistryStatus(_placement.Nodes, owned, backedUp, _store.PeerCount, _store.SwarmCount, _forwarded);
    }

    /// <summary>
    /// A partition's state on its way to a new holder: the chunk ids not yet acknowledged, and how
    /// often it was sent. The sender keeps the partition until none is left.
    /// </summary>
    private sealed class Handover(int partition, Address to, IActorRef registry)
    {
        public int Partition { get; } = partition;
        public Address To { get; } = to;
        public IActorRef Registry { get; set; } = registry;
        public HashSet<long> Outstanding { get; } = [];
        public int Attempts { get; set; }
        public long SentAt { get; set; }
    }
}
