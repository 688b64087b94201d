using Actors.Net.Telemetry;
using Actors.Torrent.Telemetry;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;
using static Actors.Torrent.Tracker.TrackerWire;

namespace Actors.Torrent.Tracker;

/// <summary>
/// This node's part of the cluster-wide tracker. Swarms fall into a fixed number of partitions
/// by info-hash; <see cref="Placement"/> (rendezvous hashing over the tracker nodes in the view)
/// gives every partition an owner and, with two nodes or more, a backup. The view is the cluster's
/// Up, reachable members whose registry answered <see cref="Hello"/>.
///
/// An announce for a partition this node owns is applied to the <see cref="SwarmStore"/> (O(1))
/// and streamed to the partition's backup; with <c>replication = sync</c> it is answered once the
/// backup acknowledged the batch it travelled in (group commit: one <see cref="ReplicaBatch"/>
/// per backup in flight, the next collecting meanwhile), so an answered announce is on two nodes.
/// An announce for a partition owned elsewhere is forwarded once to the owner; when this node is
/// that partition's backup, the owner's answer carries the change and this node applies it before
/// answering (two messages, no separate replica write).
///
/// When the view changes (a node joins, leaves, becomes unreachable or comes back) every node
/// recomputes the placement; for each partition the first old holder still in the view sends its
/// state to each new holder (<see cref="PartitionSnapshot"/> chunks, merged newest-wins), a backup
/// whose owner vanished becomes the owner with every answered announce already in hand, forwards
/// waiting on a vanished owner are routed again, and partitions no longer held are dropped after
/// <c>handover-grace</c>. Scrapes are answered from local partitions and gathered from owners.
/// </summary>
public sealed class SwarmRegistry : ReceiveActor, IWithTimers
{
    public const string BusyReason = "tracker busy, retry later";
    public const string UnavailableReason = "tracker node unavailable, retry later";
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromSeconds(1);
    /// <summary>Messages per <see cref="Batch"/>: 256 forwarded answers of 50 peers are ~0.5 MB, far below the 4 MiB frame.</summary>
    private const int OutboxBatchMax = 256;

    public static Props Props(TrackerSettings settings) => Akka.Actor.Props.Create(() => new SwarmRegistry(settings));

    private readonly TrackerSettings _settings;
    private readonly Cluster _cluster;
    private readonly Address _self;
    private readonly SwarmStore _store;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, IActorRef> _registries = [];
    private readonly Dictionary<Address, MemberStatus> _members = [];
    private readonly HashSet<Address> _unreachable = [];
    private readonly Dictionary<long, PendingForward> _forwards = [];
    private readonly Dictionary<Address, ReplicaStream> _streams = [];
    private readonly Dictionary<long, ScrapeGather> _scrapes = [];
    private readonly Dictionary<int, long> _released = [];
    private readonly Dictionary<IActorRef, List<IMessage>> _outbox = [];
    private Placement _placement;
    private long _nextId;
    private int _streamWaiters;
    private long _refused;

    public ITimerScheduler Timers { get; set; } = null!;

    public SwarmRegistry(TrackerSettings settings)
    {
        _settings = settings;
        _cluster = Cluster.Get(Context.System);
        _self = _cluster.SelfAddress;
        _store = new SwarmStore(settings.Partitions);
        _placement = Placement.Compute([_self], settings.Partitions);

        Receive<Announce>(OnAnnounce);
        Receive<Scrape>(OnScrape);
        Receive<GetStatus>(_ => Sender.Tell(Status()));
        Receive<Prune>(_ => OnPrune());
        Receive<Housekeeping>(_ => OnHousekeeping());
        Receive<FlushReplicas>(OnFlushReplicas);
        Receive<FlushOutbox>(OnFlushOutbox);
        // A batch's messages are handled one by one, in order, as if each came alone from its sender.
        Receive<Batch>(batch => { foreach (var message in batch.Messages) Self.Forward(message); });

        Receive<Hello>(_ => OnHello(reply: true));
        Receive<Welcome>(_ => OnHello(reply: false));
        Receive<ForwardedAnnounce>(OnForwardedAnnounce);
        Receive<ForwardedAnswer>(OnForwardedAnswer);
        Receive<ReplicaBatch>(OnReplicaBatch);
        Receive<ReplicaAck>(OnReplicaAck);
        Receive<PartitionSnapshot>(OnSnapshot);
        Receive<RemoteScrape>(OnRemoteScrape);
        Receive<RemoteScraped>(OnRemoteScraped);

        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.UnreachableMember>(e => { _unreachable.Add(e.Member.Address); Recompute(); });
        Receive<ClusterEvent.ReachableMember>(e => { _unreachable.Remove(e.Member.Address); Recompute(); });
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Timers.StartPeriodicTimer(Prune.Instance, Prune.Instance, _settings.PruneInterval);
        Timers.StartPeriodicTimer(Housekeeping.Instance, Housekeeping.Instance, HousekeepingInterval);
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private static long NowMs() => Environment.TickCount64;

    private int Cutoff() => TrackerClock.NowSeconds() - (int)_settings.PeerExpiry.TotalSeconds;

    private int Waiting => _forwards.Count + _streamWaiters;

    // ---------------------------------------------------------------- announces

    private void OnAnnounce(Announce announce)
    {
        if (Waiting >= _settings.MaxPendingAnnounces)
        {
            _refused++;
            Sender.Tell(new AnnounceFailed(BusyReason, announce.Correlation));
            return;
        }
        Route(announce.Request, Sender, announce.Correlation);
        TrackerMetrics.Announced(_store.SwarmCount, _store.PeerCount);
        if (announce.Request.Event == AnnounceEvent.Started)
            Context.System.EventStream.Publish(new RoleEvent("swarm-joined", $"{announce.Request.Ip}:{announce.Request.Port} joined swarm {announce.Request.InfoHash[..8]}"));
    }

    /// <summary>Applies the announce here when this node owns its partition, else forwards it to the owner.</summary>
    private void Route(AnnounceRequest request, IActorRef replyTo, object? correlation)
    {
        var change = PeerChange.Of(request, TrackerClock.NowSeconds());
        var partition = _store.PartitionOf(change.InfoHash);
        var owner = _placement.Owner(partition);
        if (!owner.Equals(_self) && _registries.TryGetValue(owner, out var registry))
        {
            var id = ++_nextId;
            _forwards[id] = new PendingForward(request, replyTo, correlation, owner, partition, NowMs());
            Send(registry, new ForwardedAnnounce(id, request));
            return;
        }
        ApplyAsOwner(change, new Waiter(request, change, replyTo, correlation, ForwardId: 0), from: null);
    }

    private void OnForwardedAnnounce(ForwardedAnnounce forwarded)
    {
        // Forwarded once: handled here whatever this node's view says (views converge; state merges).
        if (Waiting >= _settings.MaxPendingAnnounces)
        {
            _refused++;
            Send(Sender, new ForwardedAnswer(forwarded.Id, [], 0, 0, BusyReason, null));
            return;
        }
        var change = PeerChange.Of(forwarded.Request, TrackerClock.NowSeconds());
        ApplyAsOwner(change, new Waiter(forwarded.Request, change, Sender, null, forwarded.Id), from: Sender.Path.Address);
    }

    /// <summary>
    /// Applies the change, streams it to the partition's other holders and answers: at once, or
    /// (sync replication) when the first other holder acknowledged it. When <paramref name="from"/>
    /// (the forwarding node) is a holder, the answer itself carries its copy.
    /// </summary>
    private void ApplyAsOwner(in PeerChange change, Waiter waiter, Address? from)
    {
        _store.Apply(change);
        var partition = _store.PartitionOf(change.InfoHash);
        var waiting = false;
        var piggyback = false;
        foreach (var holder in _placement.Holders(partition))
        {
            if (holder.Equals(_self)) continue;
            if (holder.Equals(from)) { piggyback = true; continue; }
            if (!_registries.TryGetValue(holder, out var registry)) continue;
            if (!_streams.TryGetValue(holder, out var stream)) _streams[holder] = stream = new ReplicaStream(registry);
            stream.Changes.Add(change);
            if (_settings.SyncReplication && !waiting)
            {
                stream.Waiters.Add(waiter);
                _streamWaiters++;
                waiting = true;
            }
            ScheduleReplicaFlush(holder, stream);
        }
        if (!waiting) Answer(waiter, piggyback ? change : null);
    }

    private void Answer(Waiter waiter, PeerChange? replica)
    {
        var request = waiter.Request;
        var change = waiter.Change;
        var swarm = _store.Find(change.InfoHash);
        var wanted = request.Event == AnnounceEvent.Stopped ? 0 : request.NumWant;
        var peers = swarm?.Sample(change.PeerId, change.Address, change.Port, wanted, Cutoff()) ?? [];
        int complete = swarm?.Complete ?? 0, incomplete = swarm?.Incomplete ?? 0;
        if (waiter.ForwardId == 0)
        {
            waiter.ReplyTo.Tell(new Announced(request, peers, complete, incomplete, waiter.Correlation));
            return;
        }
        // Compact answers never show peer ids: do not send them across.
        if (request.Compact || request.NoPeerId)
            for (var i = 0; i < peers.Length; i++) peers[i] = peers[i] with { PeerId = default };
        Send(waiter.ReplyTo, new ForwardedAnswer(waiter.ForwardId, peers, complete, incomplete, null, replica));
    }

    private void OnForwardedAnswer(ForwardedAnswer answer)
    {
        // Our copy first: once the client has its answer, the announce must be on both holders.
        if (answer.Replica is { } replica) _store.Apply(replica);
        if (!_forwards.Remove(answer.Id, out var pending)) return;
        if (answer.Failure is not null) pending.ReplyTo.Tell(new AnnounceFailed(answer.Failure, pending.Correlation));
        else pending.ReplyTo.Tell(new Announced(pending.Request, answer.Peers, answer.Complete, answer.Incomplete, pending.Correlation));
    }

    // ---------------------------------------------------------------- sending to other registries

    /// <summary>
    /// Queues a message for another registry; what collects while this actor works through its
    /// mailbox leaves as one <see cref="Batch"/> (the flush is queued behind the messages already waiting).
    /// </summary>
    private void Send(IActorRef to, IMessage message)
    {
        if (!_outbox.TryGetValue(to, out var queued))
        {
            _outbox[to] = queued = [];
            Self.Tell(new FlushOutbox(to));
        }
        queued.Add(message);
    }

    private void OnFlushOutbox(FlushOutbox flush)
    {
        if (!_outbox.Remove(flush.To, out var queued)) return;
        foreach (var chunk in queued.Chunk(OutboxBatchMax))
            flush.To.Tell(chunk.Length == 1 ? chunk[0] : new Batch(chunk));
    }

    // ---------------------------------------------------------------- replication to the backup

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
        // Big batches go in several messages (each below the remoting frame); the backup applies
        // them in order, so the acknowledgement of the last covers all.
        foreach (var chunk in stream.Changes.Chunk(_settings.ReplicaBatchMax))
        {
            stream.InFlightId = ++_nextId;
            stream.To.Tell(new ReplicaBatch(stream.InFlightId, chunk));
        }
        stream.Changes = [];
        (stream.InFlight, stream.Waiters) = (stream.Waiters, stream.InFlight);
        stream.SentAt = NowMs();
    }

    private void OnReplicaBatch(ReplicaBatch batch)
    {
        foreach (var change in batch.Changes) _store.Apply(change);
        Send(Sender, new ReplicaAck(batch.Id));
    }

    private void OnReplicaAck(ReplicaAck ack)
    {
        if (!_streams.TryGetValue(Sender.Path.Address, out var stream) || stream.InFlightId != ack.Id) return;
        CompleteInFlight(stream);
        Flush(stream);
    }

    private void CompleteInFlight(ReplicaStream stream)
    {
        stream.InFlightId = 0;
        var done = stream.InFlight;
        stream.InFlight = [];
        _streamWaiters -= done.Count;
        foreach (var waiter in done) Answer(waiter, null);
        done.Clear();
        stream.InFlight = done;
    }

    // ---------------------------------------------------------------- membership, placement, handover

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        var address = e.Member.Address;
        if (e is ClusterEvent.MemberRemoved)
        {
            _members.Remove(address);
            _registries.Remove(address);
            _unreachable.Remove(address);
        }
        else
        {
            _members[address] = e.Member.Status;
            if (e is ClusterEvent.MemberUp && !address.Equals(_self))
                Context.ActorSelection(new RootActorPath(address) / Self.Path.Elements).Tell(Hello.Instance);
        }
        Recompute();
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
        var view = _members
            .Where(m => m.Value == MemberStatus.Up && !_unreachable.Contains(m.Key) && (m.Key.Equals(_self) || _registries.ContainsKey(m.Key)))
            .Select(m => m.Key).ToList();
        if (view.Count == 0) view.Add(_self);
        var next = Placement.Compute(view, _settings.Partitions);
        if (next.Nodes.SequenceEqual(_placement.Nodes)) return;
        var previous = _placement;
        _placement = next;

        var sent = 0;
        for (var p = 0; p < _settings.Partitions; p++)
        {
            if (!_store.HasData(p)) continue;
            // The first old holder still in the view hands the state to each new holder.
            var sender = previous.Holders(p).FirstOrDefault(a => next.Nodes.Contains(a)) ?? next.Owner(p);
            if (!sender.Equals(_self)) continue;
            foreach (var holder in next.Holders(p))
                if (!holder.Equals(_self) && !previous.Holds(p, holder) && _registries.TryGetValue(holder, out var registry))
                    sent += SendSnapshot(p, registry);
        }

        // Replica streams to nodes that left the view: their waiters are answered (held here).
        foreach (var (address, stream) in _streams.Where(s => !next.Nodes.Contains(s.Key)).ToList())
        {
            _streams.Remove(address);
            if (stream.InFlightId != 0) CompleteInFlight(stream);
            _streamWaiters -= stream.Waiters.Count;
            foreach (var waiter in stream.Waiters) Answer(waiter, null);
        }
        // Forwards waiting on a node that no longer owns their partition go to the new owner.
        foreach (var (id, forward) in _forwards.Where(f => !next.Owner(f.Value.Partition).Equals(f.Value.To)).ToList())
        {
            _forwards.Remove(id);
            Route(forward.Request, forward.ReplyTo, forward.Correlation);
        }

        var status = Status();
        _log.Info("Tracker view: {0} node(s) [{1}]; this node owns {2} and backs up {3} of {4} partitions; handed over {5} peers",
            view.Count, string.Join(", ", next.Nodes), status.Owned, status.BackedUp, _settings.Partitions, sent);
    }

    private int SendSnapshot(int partition, IActorRef to)
    {
        var peers = 0;
        foreach (var (chunk, downloads) in _store.Snapshot(partition, _settings.SnapshotChunk))
        {
            to.Tell(new PartitionSnapshot(partition, chunk, downloads));
            peers += chunk.Length;
        }
        return peers;
    }

    private void OnSnapshot(PartitionSnapshot snapshot)
    {
        foreach (var peer in snapshot.Peers) _store.Merge(peer);
        foreach (var downloads in snapshot.Downloads) _store.Merge(downloads);
    }

    private RegistryStatus Status()
    {
        int owned = 0, backedUp = 0;
        for (var p = 0; p < _settings.Partitions; p++)
        {
            if (_placement.Owner(p).Equals(_self)) owned++;
            else if (_self.Equals(_placement.Backup(p))) backedUp++;
        }
        return new RegistryStatus(_placement.Nodes, owned, backedUp, _store.PeerCount, _store.SwarmCount);
    }

    // ---------------------------------------------------------------- scrape

    private void OnScrape(Scrape scrape)
    {
        var gather = new ScrapeGather(++_nextId, Sender, scrape.Correlation, scrape.InfoHashes, NowMs());
        if (scrape.InfoHashes.Count == 0)
        {
            if (_settings.MaxScrapeAll > 0)
            {
                gather.Results.AddRange(OwnedStats(_settings.MaxScrapeAll));
                foreach (var node in _placement.Nodes)
                    if (!node.Equals(_self) && _registries.TryGetValue(node, out var registry))
                    {
                        Send(registry, new RemoteScrape(gather.Id, [], All: true));
                        gather.Outstanding.Add(node);
                    }
            }
        }
        else
        {
            var remote = new Dictionary<Address, List<Id20>>();
            foreach (var hex in scrape.InfoHashes)
            {
                var infoHash = Id20.FromHex(hex);
                var partition = _store.PartitionOf(infoHash);
                var owner = _placement.Owner(partition);
                if (_placement.Holds(partition, _self) || !_registries.ContainsKey(owner)) gather.Results.Add(Stats(infoHash));
                else (remote.TryGetValue(owner, out var list) ? list : remote[owner] = []).Add(infoHash);
            }
            foreach (var (node, hashes) in remote)
            {
                Send(_registries[node], new RemoteScrape(gather.Id, hashes, All: false));
                gather.Outstanding.Add(node);
            }
        }
        if (gather.Outstanding.Count == 0) Finish(gather);
        else _scrapes[gather.Id] = gather;
    }

    private void OnRemoteScrape(RemoteScrape query)
    {
        var stats = query.All ? OwnedStats(_settings.MaxScrapeAll) : query.InfoHashes.Select(Stats).ToList();
        Send(Sender, new RemoteScraped(query.Id, stats));
    }

    private void OnRemoteScraped(RemoteScraped answer)
    {
        if (!_scrapes.TryGetValue(answer.Id, out var gather)) return;
        gather.Results.AddRange(answer.Swarms);
        gather.Outstanding.Remove(Sender.Path.Address);
        if (gather.Outstanding.Count == 0) Finish(gather);
    }

    private void Finish(ScrapeGather gather)
    {
        _scrapes.Remove(gather.Id);
        IReadOnlyList<SwarmStats> result;
        if (gather.Requested.Count == 0) result = gather.Results.Take(_settings.MaxScrapeAll).ToList();
        else
        {
            // In the order asked; a swarm nobody answered for counts as unknown (zeroes).
            var byHash = gather.Results.GroupBy(s => s.InfoHash).ToDictionary(g => g.Key, g => g.First());
            result = gather.Requested.Select(h => byHash.GetValueOrDefault(h) ?? new SwarmStats(h, 0, 0, 0)).ToList();
        }
        gather.ReplyTo.Tell(new Scraped(result, gather.Correlation));
    }

    private SwarmStats Stats(Id20 infoHash)
    {
        var swarm = _store.Find(infoHash);
        return new SwarmStats(infoHash.ToHex(), swarm?.Complete ?? 0, swarm?.Incomplete ?? 0, swarm?.Downloaded ?? 0);
    }

    private List<SwarmStats> OwnedStats(int max)
    {
        var result = new List<SwarmStats>();
        for (var p = 0; p < _settings.Partitions && result.Count < max; p++)
        {
            if (!_placement.Owner(p).Equals(_self)) continue;
            foreach (var (infoHash, swarm) in _store.SwarmsOf(p))
            {
                if (result.Count >= max) break;
                result.Add(new SwarmStats(infoHash.ToHex(), swarm.Complete, swarm.Incomplete, swarm.Downloaded));
            }
        }
        return result;
    }

    // ---------------------------------------------------------------- timers

    private void OnPrune()
    {
        if (_refused > 0)
        {
            _log.Warning("Refused {0} announces: {1} were waiting for an owner or a backup (max-pending-announces)", _refused, Waiting);
            _refused = 0;
        }
        var expired = _store.RemoveExpired(Cutoff());
        if (expired > 0) _log.Debug("Pruned {0} expired peers", expired);

        // Partitions this node no longer holds are kept for handover-grace (a handover in flight
        // may still need them), then dropped.
        var now = NowMs();
        for (var p = 0; p < _settings.Partitions; p++)
        {
            if (_placement.Holds(p, _self) || !_store.HasData(p)) { _released.Remove(p); continue; }
            if (!_released.TryGetValue(p, out var since)) _released[p] = now;
            else if (now - since >= (long)_settings.HandoverGrace.TotalMilliseconds)
            {
                _store.Drop(p);
                _released.Remove(p);
            }
        }
    }

    private void OnHousekeeping()
    {
        var now = NowMs();
        foreach (var (id, forward) in _forwards.Where(f => now - f.Value.SentAt > (long)_settings.ForwardTimeout.TotalMilliseconds).ToList())
        {
            _forwards.Remove(id);
            _log.Warning("Owner {0} did not answer a forwarded announce within {1}", forward.To, _settings.ForwardTimeout);
            forward.ReplyTo.Tell(new AnnounceFailed(UnavailableReason, forward.Correlation));
        }
        foreach (var (address, stream) in _streams)
        {
            if (stream.InFlightId == 0 || now - stream.SentAt <= (long)_settings.WriteTimeout.TotalMilliseconds) continue;
            // The backup is slow or gone (until the cluster says so): answer from this copy.
            _log.Warning("Backup {0} did not acknowledge within {1}; answering {2} announces from the owner's copy alone",
                address, _settings.WriteTimeout, stream.InFlight.Count);
            CompleteInFlight(stream);
            Flush(stream);
        }
        foreach (var gather in _scrapes.Values.Where(g => now - g.StartedAt > (long)_settings.WriteTimeout.TotalMilliseconds).ToList())
            Finish(gather);
    }

    // ---------------------------------------------------------------- state

    /// <summary>An announce waiting for its answer: local (ForwardId 0, reply Announced) or forwarded to us (reply ForwardedAnswer).</summary>
    private sealed record Waiter(AnnounceRequest Request, PeerChange Change, IActorRef ReplyTo, object? Correlation, long ForwardId);

    private sealed record PendingForward(AnnounceRequest Request, IActorRef ReplyTo, object? Correlation, Address To, int Partition, long SentAt);

    /// <summary>Changes for one backup node: those collecting, and the batch in flight with the announces waiting for it.</summary>
    private sealed class ReplicaStream(IActorRef to)
    {
        public IActorRef To { get; } = to;
        public List<PeerChange> Changes { get; set; } = [];
        public List<Waiter> Waiters { get; set; } = [];
        public List<Waiter> InFlight { get; set; } = [];
        public long InFlightId { get; set; }
        public long SentAt { get; set; }
        public bool FlushScheduled { get; set; }
    }

    private sealed class ScrapeGather(long id, IActorRef replyTo, object? correlation, IReadOnlyList<string> requested, long startedAt)
    {
        public long Id { get; } = id;
        public IActorRef ReplyTo { get; } = replyTo;
        public object? Correlation { get; } = correlation;
        public IReadOnlyList<string> Requested { get; } = requested;
        public long StartedAt { get; } = startedAt;
        public List<SwarmStats> Results { get; } = [];
        public HashSet<Address> Outstanding { get; } = [];
    }
}
