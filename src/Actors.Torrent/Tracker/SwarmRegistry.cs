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
/// An announce for a partition this node holds (owner or backup) is stamped, applied to the
/// <see cref="SwarmStore"/> (O(1)) and streamed to the partition's other holders; with
/// <c>replication = sync</c> it is answered, from this node's copy, once every other holder
/// acknowledged the batch it travelled in (group commit: one <see cref="ReplicaBatch"/> per holder
/// node in flight, the next collecting meanwhile), so an answered announce is on every holder.
/// Every holder writes: two holders may change one peer concurrently, and each applies the other's
/// changes newest-wins, so their copies converge. Only an announce for a partition this node holds
/// no copy of (three nodes or more) is forwarded, once, to the owner, which does the same and answers.
///
/// When the view changes (a node joins, leaves, becomes unreachable or comes back) every node
/// recomputes the placement; for each partition the first old holder still in the view sends its
/// state to each new holder (<see cref="PartitionSnapshot"/> chunks, merged newest-wins, each
/// acknowledged by <see cref="HandoverAck"/> and sent again when not), a backup whose owner
/// vanished becomes the owner with every answered announce already in hand, forwards waiting on a
/// vanished owner are routed again, and partitions no longer held are dropped once their
/// handovers were acknowledged and <c>handover-grace</c> passed. Scrapes are answered from local
/// partitions and gathered from owners.
///
/// Files: this one (announces, outbox, timers), <c>.Replication</c> (holder to holder stream),
/// <c>.Membership</c> (view, placement, handover), <c>.Settling</c> (announces held until this
/// node's first view is complete), <c>.Scrape</c>.
/// </summary>
public sealed partial class SwarmRegistry : ReceiveActor, IWithTimers
{
    public const string BusyReason = "tracker busy, retry later";
    public const string UnavailableReason = "tracker node unavailable, retry later";
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromSeconds(1);
    /// <summary>Messages per <see cref="Batch"/>.</summary>
    private const int OutboxBatchMax = 256;
    /// <summary>Estimated bytes per <see cref="Batch"/> (<see cref="WireSize"/>): far below the 4 MiB remoting frame.</summary>
    private const int OutboxBatchBytes = 1 << 20;
    /// <summary>Hellos to a member whose registry stays silent (one per housekeeping tick).</summary>
    private const int MaxGreetings = 10;

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
    // Released partitions whose final handover to the current holders was sent (dropped once acknowledged).
    private readonly HashSet<int> _flushed = [];
    private readonly Dictionary<(int Partition, Address To), Handover> _handovers = [];
    private readonly Dictionary<long, (int Partition, Address To)> _handoverChunks = [];
    private readonly Dictionary<Address, int> _greetings = [];
    private readonly Dictionary<IActorRef, List<IMessage>> _outbox = [];
    private readonly Queue<HeldAnnounce> _held = new();
    private Placement _placement;
    private long _nextId;
    private int _streamWaiters;
    private long _refused;
    /// <summary>Announces this node forwarded (it held no copy of their partition): diagnostics and tests.</summary>
    private long _forwarded;

    public ITimerScheduler Timers { get; set; } = null!;

    public SwarmRegistry(TrackerSettings settings)
    {
        _settings = settings;
        _cluster = Cluster.Get(Context.System);
        _self = _cluster.SelfAddress;
        _store = new SwarmStore(settings.Partitions);
        _placement = Placement.Compute([_self], settings.Partitions, settings.Replicas);

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
        Receive<HandoverAck>(OnHandoverAck);
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

    private int Waiting => _forwards.Count + _streamWaiters + _held.Count;

    // ---------------------------------------------------------------- announces

    private void OnAnnounce(Announce announce)
    {
        if (Waiting >= _settings.MaxPendingAnnounces)
        {
            _refused++;
            Sender.Tell(new AnnounceFailed(BusyReason, announce.Correlation));
            return;
        }
        if (!_settled)
        {
            Hold(announce);
            return;
        }
        Route(announce.Request, Sender, announce.Correlation);
        TrackerMetrics.Announced(_store.SwarmCount, _store.PeerCount);
        if (announce.Request.Event == AnnounceEvent.Started)
            Context.System.EventStream.Publish(new RoleEvent("swarm-joined", $"{announce.Request.Ip}:{announce.Request.Port} joined swarm {announce.Request.InfoHash[..8]}"));
    }

    /// <summary>
    /// Applies the announce here when this node holds its partition (owner or backup: always, with
    /// two nodes and two replicas), else forwards it once to the owner.
    /// </summary>
    private void Route(AnnounceRequest request, IActorRef replyTo, object? correlation)
    {
        var change = PeerChange.Of(request, TrackerClock.NowSeconds());
        var partition = _store.PartitionOf(change.InfoHash);
        var owner = _placement.Owner(partition);
        if (!_placement.Holds(partition, _self) && _registries.TryGetValue(owner, out var registry))
        {
            var id = ++_nextId;
            _forwards[id] = new PendingForward(request, replyTo, correlation, owner, partition, NowMs());
            _forwarded++;
            TrackerMetrics.Forwards.Add(1);
            Send(registry, new ForwardedAnnounce(id, request));
            return;
        }
        ApplyAsHolder(change, request, replyTo, correlation, forwardId: 0);
    }

    private void OnForwardedAnnounce(ForwardedAnnounce forwarded)
    {
        // Forwarded once: handled here whatever this node's view says (views converge; state merges).
        if (Waiting >= _settings.MaxPendingAnnounces)
        {
            _refused++;
            Send(Sender, new ForwardedAnswer(forwarded.Id, [], 0, 0, BusyReason));
            return;
        }
        ApplyAsHolder(PeerChange.Of(forwarded.Request, TrackerClock.NowSeconds()), forwarded.Request, Sender, correlation: null, forwarded.Id);
    }

    /// <summary>
    /// Stamps and applies the change here, streams it to the partition's other holders and answers
    /// from this copy: at once, or (sync replication) when every other holder acknowledged it. Any
    /// holder does this for the announces it receives, so two holders write the same partition
    /// concurrently; each applies the other's changes newest-wins (<see cref="SwarmStore.Apply"/>),
    /// so their copies converge.
    /// </summary>
    private void ApplyAsHolder(PeerChange received, AnnounceRequest request, IActorRef replyTo, object? correlation, long forwardId)
    {
        var change = _store.Stamp(received);
        var waiter = new Waiter(request, change, replyTo, correlation, forwardId);
        _store.Apply(change);
        foreach (var holder in _placement.Holders(_store.PartitionOf(change.InfoHash)))
        {
            if (holder.Equals(_self) || !_registries.TryGetValue(holder, out var registry)) continue;
            if (!_streams.TryGetValue(holder, out var stream)) _streams[holder] = stream = new ReplicaStream(registry);
            stream.Changes.Add(change);
            if (_settings.SyncReplication)
            {
                stream.Waiters.Add(waiter);
                waiter.Pending++;
            }
            ScheduleReplicaFlush(holder, stream);
        }
        if (waiter.Pending == 0) Answer(waiter);
        else _streamWaiters++;
    }

    /// <summary>One holder acknowledged (or was given up on): the announce is answered when none is left.</summary>
    private void Acknowledged(Waiter waiter)
    {
        if (--waiter.Pending > 0) return;
        _streamWaiters--;
        Answer(waiter);
    }

    /// <summary>Answers from this node's copy: its own sample of the swarm.</summary>
    private void Answer(Waiter waiter)
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
        Send(waiter.ReplyTo, new ForwardedAnswer(waiter.ForwardId, peers, complete, incomplete, null));
    }

    private void OnForwardedAnswer(ForwardedAnswer answer)
    {
        // This node held no copy of the partition when it forwarded: the owner applied the change
        // and streamed it to the holders of its view before answering, so nothing is applied here.
        if (!_forwards.Remove(answer.Id, out var pending)) return;
        if (answer.Failure is not null)
        {
            pending.ReplyTo.Tell(new AnnounceFailed(answer.Failure, pending.Correlation));
            return;
        }
        pending.ReplyTo.Tell(new Announced(pending.Request, answer.Peers, answer.Complete, answer.Incomplete, pending.Correlation));
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
        var batch = new List<IMessage>();
        var bytes = 0;
        foreach (var message in queued)
        {
            var size = WireSize(message);
            if (batch.Count > 0 && (batch.Count == OutboxBatchMax || bytes + size > OutboxBatchBytes))
            {
                SendBatch(flush.To, batch);
                batch = [];
                bytes = 0;
            }
            batch.Add(message);
            bytes += size;
        }
        SendBatch(flush.To, batch);

        static void SendBatch(IActorRef to, List<IMessage> messages) => to.Tell(messages.Count == 1 ? messages[0] : new Batch(messages));
    }

    /// <summary>Roughly a message's bytes on the wire (a replica change is 63, a peer in an answer at most 38).</summary>
    private static int WireSize(IMessage message) => message switch
    {
        ReplicaBatch b => 16 + b.Changes.Count * 63,
        ForwardedAnswer a => 64 + a.Peers.Count * 38,
        RemoteScrape q => 16 + q.InfoHashes.Count * 20,
        RemoteScraped r => 16 + r.Swarms.Count * 36,
        _ => 128,
    };

    // ---------------------------------------------------------------- timers

    private void OnPrune()
    {
        if (_refused > 0)
        {
            _log.Warning("Refused {0} announces: {1} were waiting for an owner or another holder (max-pending-announces)", _refused, Waiting);
            _refused = 0;
        }
        var expired = _store.RemoveExpired(Cutoff());
        if (expired > 0) _log.Debug("Pruned {0} expired peers", expired);

        // Partitions this node no longer holds are kept until their new holders acknowledged the
        // handover, then for handover-grace (announces forwarded on an older view may still
        // arrive), then handed to the current holders once more and dropped once they acknowledged.
        // That last handover is what saves peers written here by a node whose view lagged (an owner
        // that streamed to a holder of its older view): no view change here would send them on.
        // While this node is not in its own view (not Up yet) it holds nothing by the placement,
        // yet handovers may already arrive: nothing is dropped then.
        if (!_placement.Nodes.Contains(_self)) return;
        var now = NowMs();
        for (var p = 0; p < _settings.Partitions; p++)
        {
            if (_placement.Holds(p, _self) || !_store.HasData(p))
            {
                _released.Remove(p);
                _flushed.Remove(p);
                continue;
            }
            if (HandingOver(p)) continue;
            if (!_released.TryGetValue(p, out var since)) _released[p] = now;
            else if (now - since < (long)_settings.HandoverGrace.TotalMilliseconds) continue;
            else if (_flushed.Add(p)) HandToHolders(p);
            else
            {
                _store.Drop(p);
                _released.Remove(p);
                _flushed.Remove(p);
            }
        }
    }

    /// <summary>A partition this node lets go: its state to every current holder (merging makes what they already have harmless).</summary>
    private void HandToHolders(int partition)
    {
        var peers = 0;
        foreach (var holder in _placement.Holders(partition))
            if (!holder.Equals(_self) && !_handovers.ContainsKey((partition, holder)) && _registries.TryGetValue(holder, out var registry))
                peers += StartHandover(new Handover(partition, holder, registry));
        if (peers > 0) _log.Debug("Partition {0} released: {1} peers handed to its holders before it is dropped", partition, peers);
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
        // A holder slow or cut off (until the cluster says so): answer from this copy.
        foreach (var (address, stream) in _streams)
            if (stream.InFlight.TryPeek(out var oldest) && now - oldest.SentAt > (long)_settings.WriteTimeout.TotalMilliseconds)
                TimedOut(address, stream);
        foreach (var gather in _scrapes.Values.Where(g => now - g.StartedAt > (long)_settings.WriteTimeout.TotalMilliseconds).ToList())
            Finish(gather);
        RetryHandovers(now);
        GreetSilentMembers();
        if (!_settled) Settle();
        ExpireHeld(now);
    }

    // ---------------------------------------------------------------- state

    /// <summary>An announce waiting for its answer: local (ForwardId 0, reply Announced) or forwarded to us (reply ForwardedAnswer).</summary>
    /// <param name="Change">The stamped change applied here and streamed to the other holders.</param>
    private sealed record Waiter(AnnounceRequest Request, PeerChange Change, IActorRef ReplyTo, object? Correlation, long ForwardId)
    {
        /// <summary>Holders whose acknowledgement it still waits for.</summary>
        public int Pending { get; set; }
    }

    private sealed record PendingForward(AnnounceRequest Request, IActorRef ReplyTo, object? Correlation, Address To, int Partition, long SentAt);
}
