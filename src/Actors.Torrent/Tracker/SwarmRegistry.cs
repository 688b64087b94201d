using Actors.Torrent.Telemetry;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The cluster-wide view of every swarm, kept in Akka.DistributedData. Swarms are spread over a
/// fixed number of shard keys by the first byte of their info-hash; each shard is an
/// <c>LWWDictionary</c> from "info-hash hex + peer-id hex" to <see cref="PeerEntry"/>, and a
/// <c>PNCounterDictionary</c> per shard counts completed downloads per swarm.
///
/// Reads never touch the replicator: a local <see cref="SwarmIndex"/> per shard answers announces
/// in O(numwant) and scrapes in O(1) per swarm. A local announce updates the index at once
/// (read-your-writes) and joins its shard's batch; the replicator's <c>Changed</c> notification
/// for a shard merges the replicated value (other nodes' announces) into the index.
///
/// Writes are batched per shard (group commit): the first announce of an idle shard schedules a
/// flush behind the messages already in the mailbox (or after <c>write-batch-window</c>), and
/// while a batch's Update is in flight the next announces of that shard collect for the next
/// one. So one Update carries every announce that arrived during the previous write, and the
/// replicator's per-Update cost (it merges the whole shard value) is paid once per batch. With
/// write-majority the announces of a batch are answered when its UpdateSuccess (or
/// UpdateTimeout: still applied locally, spread by gossip) arrives, so an answered announce is
/// held by a majority; with write-local they are answered at once. At most
/// <c>max-pending-announces</c> announces may wait for their batch; beyond that the announce is
/// refused with a bencoded "tracker busy" failure (clients retry at their next interval).
///
/// Expired peers are skipped on every read and removed by a periodic prune.
/// </summary>
public sealed class SwarmRegistry : ReceiveActor, IWithTimers
{
    public const string BusyReason = "tracker busy, retry later";

    public static Props Props(TrackerSettings settings, IActorRef replicator) =>
        Akka.Actor.Props.Create(() => new SwarmRegistry(settings, replicator));

    private readonly TrackerSettings _settings;
    private readonly IActorRef _replicator;
    private readonly UniqueAddress _self;
    private readonly LWWDictionaryKey<string, PeerEntry>[] _peerKeys;
    private readonly PNCounterDictionaryKey<string>[] _downloadKeys;
    private readonly Dictionary<string, int> _shardOfKey = new(StringComparer.Ordinal);
    private readonly SwarmIndex[] _index;
    private readonly ShardWrites[] _writes;
    private readonly PNCounterDictionary<string>[] _downloads;
    private readonly IWriteConsistency _announceWrite;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _nextBatchId;
    private int _pending;
    private long _refused;

    public ITimerScheduler Timers { get; set; } = null!;

    public SwarmRegistry(TrackerSettings settings, IActorRef replicator)
    {
        _settings = settings;
        _replicator = replicator;
        _self = Cluster.Get(Context.System).SelfUniqueAddress;
        _peerKeys = Enumerable.Range(0, settings.Shards).Select(i => new LWWDictionaryKey<string, PeerEntry>($"tracker-peers-{i}")).ToArray();
        _downloadKeys = Enumerable.Range(0, settings.Shards).Select(i => new PNCounterDictionaryKey<string>($"tracker-downloads-{i}")).ToArray();
        for (var i = 0; i < settings.Shards; i++)
        {
            _shardOfKey[_peerKeys[i].Id] = i;
            _shardOfKey[_downloadKeys[i].Id] = i;
        }
        _index = Enumerable.Range(0, settings.Shards).Select(_ => new SwarmIndex()).ToArray();
        _writes = Enumerable.Range(0, settings.Shards).Select(_ => new ShardWrites()).ToArray();
        _downloads = Enumerable.Repeat(PNCounterDictionary<string>.Empty, settings.Shards).ToArray();
        _announceWrite = settings.WriteMajority ? new WriteMajority(settings.WriteTimeout) : WriteLocal.Instance;

        Receive<Announce>(OnAnnounce);
        Receive<Scrape>(OnScrape);
        Receive<FlushShard>(f => OnFlushDue(f.Shard));
        Receive<Prune>(_ => OnPrune());
        Receive<UpdateSuccess>(u => OnWritten(u.Request, failure: null));
        Receive<UpdateTimeout>(u =>
        {
            // A majority write that timed out is still applied locally and spreads by gossip.
            if (u.Request is WriteBatch) _log.Warning("Replication of {0} timed out; kept locally", u.Key);
            OnWritten(u.Request, failure: null);
        });
        Receive<ModifyFailure>(f =>
        {
            _log.Error(f.Cause, "Swarm update failed: {0}", f.ErrorMessage);
            OnWritten(f.Request, failure: "internal error");
        });
        Receive<StoreFailure>(f => OnWritten(f.Request, failure: "internal error"));
        Receive<Changed>(OnChanged);
    }

    protected override void PreStart()
    {
        foreach (var key in _peerKeys) _replicator.Tell(Dsl.Subscribe(key, Self));
        foreach (var key in _downloadKeys) _replicator.Tell(Dsl.Subscribe(key, Self));
        Timers.StartPeriodicTimer(Prune.Instance, Prune.Instance, _settings.PruneInterval);
    }

    public static int ShardOf(string infoHashHex, int shards) => Convert.ToByte(infoHashHex[..2], 16) % shards;

    private long Cutoff() => NowMs() - (long)_settings.PeerExpiry.TotalMilliseconds;

    private void OnAnnounce(Announce announce)
    {
        if (_pending >= _settings.MaxPendingAnnounces)
        {
            _refused++;
            Sender.Tell(new AnnounceFailed(BusyReason, announce.Correlation));
            return;
        }
        var request = announce.Request;
        var shard = ShardOf(request.InfoHash, _settings.Shards);
        PeerEntry? entry = null;
        if (request.Event == AnnounceEvent.Stopped)
            _index[shard].Remove(request.InfoHash, request.PeerId);
        else
        {
            entry = new PeerEntry(request.Ip.ToString(), request.Port, request.IsSeeder, NowMs());
            _index[shard].Set(request.InfoHash, request.PeerId, entry);
        }

        var writes = _writes[shard];
        var batch = writes.Collecting;
        batch.Ops[request.InfoHash + request.PeerId] = entry;
        if (request.Event == AnnounceEvent.Completed)
            batch.Completed[request.InfoHash] = batch.Completed.GetValueOrDefault(request.InfoHash) + 1;
        batch.Announces++;
        _pending++;
        TrackerMetrics.Announced(_index);
        if (request.Event == AnnounceEvent.Started) Context.System.EventStream.Publish(new Actors.Net.Telemetry.RoleEvent("swarm-joined", $"{request.Ip}:{request.Port} joined swarm {request.InfoHash[..8]}"));
        if (_settings.WriteMajority) batch.Waiting.Add(new PendingAnnounce(request, Sender, announce.Correlation));
        else Reply(request, Sender, announce.Correlation);

        if (batch.Announces >= _settings.WriteBatchMax) Flush(shard);
        else if (writes.InFlight.Count == 0) ScheduleFlush(shard);
        // Otherwise the batch in flight schedules this one when it is written.
    }

    private void ScheduleFlush(int shard)
    {
        var writes = _writes[shard];
        if (writes.FlushScheduled) return;
        writes.FlushScheduled = true;
        // Behind the messages already in the mailbox, so announces that arrived together share a write.
        if (_settings.WriteBatchWindow == TimeSpan.Zero) Self.Tell(new FlushShard(shard));
        else Timers.StartSingleTimer(new FlushShard(shard), new FlushShard(shard), _settings.WriteBatchWindow);
    }

    private void OnFlushDue(int shard)
    {
        var writes = _writes[shard];
        writes.FlushScheduled = false;
        if (writes.InFlight.Count == 0) Flush(shard);
    }

    /// <summary>Sends the shard's collected announces as one Update.</summary>
    private void Flush(int shard)
    {
        var writes = _writes[shard];
        var batch = writes.Collecting;
        if (batch.Announces == 0) return;
        writes.Collecting = new Batch(++_nextBatchId);
        writes.InFlight.Add(batch);

        var self = _self;
        var ops = batch.Ops;
        _replicator.Tell(Dsl.Update(_peerKeys[shard], LWWDictionary<string, PeerEntry>.Empty, _announceWrite,
            new WriteBatch(shard, batch.Id), d =>
            {
                // Runs inside the replicator: only the captured, no longer mutated ops are read.
                foreach (var (key, entry) in ops)
                {
                    if (entry is not null) d = d.SetItem(self, key, entry);
                    else if (d.ContainsKey(key)) d = d.Remove(self, key);
                }
                return d;
            }));

        if (batch.Completed.Count > 0)
        {
            var completed = batch.Completed;
            _replicator.Tell(Dsl.Update(_downloadKeys[shard], PNCounterDictionary<string>.Empty, WriteLocal.Instance,
                DownloadsCounted.Instance, d =>
                {
                    foreach (var (infoHash, count) in completed) d = d.Increment(self, infoHash, count);
                    return d;
                }));
        }
    }

    private void OnWritten(object? request, string? failure)
    {
        if (request is not WriteBatch written) return;
        var writes = _writes[written.Shard];
        var at = writes.InFlight.FindIndex(b => b.Id == written.Id);
        if (at < 0) return;
        var batch = writes.InFlight[at];
        writes.InFlight.RemoveAt(at);
        _pending -= batch.Announces;
        foreach (var waiting in batch.Waiting)
        {
            if (failure is null) Reply(waiting.Request, waiting.ReplyTo, waiting.Correlation);
            else waiting.ReplyTo.Tell(new AnnounceFailed(failure, waiting.Correlation));
        }
        if (writes.InFlight.Count == 0 && writes.Collecting.Announces > 0) ScheduleFlush(written.Shard);
    }

    private void Reply(AnnounceRequest request, IActorRef replyTo, IActorRef? correlation)
    {
        var swarm = _index[ShardOf(request.InfoHash, _settings.Shards)].Find(request.InfoHash);
        if (swarm is null)
        {
            replyTo.Tell(new Announced(request, [], 0, 0, correlation));
            return;
        }
        var wanted = request.Event == AnnounceEvent.Stopped ? 0 : request.NumWant;
        var peers = swarm.Sample(request.PeerId, request.Ip, request.Port, wanted, Cutoff());
        replyTo.Tell(new Announced(request, peers, swarm.Complete, swarm.Incomplete, correlation));
    }

    private void OnChanged(Changed changed)
    {
        if (!_shardOfKey.TryGetValue(changed.Key.Id, out var shard)) return;
        if (changed.Key.Equals(_downloadKeys[shard]))
        {
            _downloads[shard] = changed.Get(_downloadKeys[shard]);
            return;
        }
        var index = _index[shard];
        index.MergeFrom(changed.Get(_peerKeys[shard]), Cutoff());
        // The notification may predate our newest writes: lay them over it again, oldest first.
        var writes = _writes[shard];
        foreach (var batch in writes.InFlight) Reapply(index, batch);
        Reapply(index, writes.Collecting);
    }

    private static void Reapply(SwarmIndex index, Batch batch)
    {
        foreach (var (key, entry) in batch.Ops)
        {
            var infoHash = key[..40];
            var peerId = key[40..];
            if (entry is null) index.Remove(infoHash, peerId);
            else index.Set(infoHash, peerId, entry);
        }
    }

    private void OnScrape(Scrape scrape)
    {
        var result = new List<SwarmStats>();
        if (scrape.InfoHashes.Count > 0)
        {
            foreach (var infoHash in scrape.InfoHashes) result.Add(Stats(infoHash));
        }
        else
        {
            foreach (var index in _index)
                foreach (var infoHash in index.InfoHashes)
                {
                    if (result.Count >= _settings.MaxScrapeAll) break;
                    result.Add(Stats(infoHash));
                }
        }
        Sender.Tell(new Scraped(result, scrape.Correlation));
    }

    private SwarmStats Stats(string infoHash)
    {
        var shard = ShardOf(infoHash, _settings.Shards);
        var swarm = _index[shard].Find(infoHash);
        _downloads[shard].TryGetValue(infoHash, out var downloaded);
        return new SwarmStats(infoHash, swarm?.Complete ?? 0, swarm?.Incomplete ?? 0, (long)downloaded);
    }

    private void OnPrune()
    {
        if (_refused > 0)
        {
            _log.Warning("Refused {0} announces: {1} were waiting for their writes (max-pending-announces)", _refused, _pending);
            _refused = 0;
        }
        var cutoff = Cutoff();
        var self = _self;
        for (var shard = 0; shard < _settings.Shards; shard++)
        {
            var expired = _index[shard].RemoveExpired(cutoff);
            if (expired.Count == 0) continue;
            _log.Debug("Pruning {0} expired peers from shard {1}", expired.Count, shard);
            _replicator.Tell(Dsl.Update(_peerKeys[shard], LWWDictionary<string, PeerEntry>.Empty, WriteLocal.Instance, d =>
            {
                // Re-check inside the update: a peer may have announced again (on any node) since we looked.
                foreach (var key in expired)
                    if (d.TryGetValue(key, out var entry) && entry.LastSeen < cutoff)
                        d = d.Remove(self, key);
                return d;
            }));
        }
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>One shard's writes: the batch collecting announces and the batches sent to the replicator.</summary>
    private sealed class ShardWrites
    {
        public Batch Collecting { get; set; } = new(0);
        public List<Batch> InFlight { get; } = [];
        public bool FlushScheduled { get; set; }
    }

    /// <summary>
    /// Announces of one shard written by one Update: the last operation per peer (null: remove),
    /// completed downloads per swarm, and (write-majority) the announces waiting for the write.
    /// </summary>
    private sealed class Batch(long id)
    {
        public long Id { get; } = id;
        public Dictionary<string, PeerEntry?> Ops { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, int> Completed { get; } = new(StringComparer.Ordinal);
        public List<PendingAnnounce> Waiting { get; } = [];
        public int Announces { get; set; }
    }
}
