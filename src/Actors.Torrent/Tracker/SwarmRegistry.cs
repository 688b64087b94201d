using System.Net;
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
/// An announce is an Update (WriteMajority by default, so an answered announce survives the
/// loss of its node) followed by a local Get whose value answers it: read-your-writes on the node
/// the peer talks to, eventual consistency elsewhere. Expired peers are skipped on every read and
/// removed by a periodic prune. Scrapes are answered from the latest shard values this actor has
/// seen (its own reads plus replicator change notifications), so they may lag by a gossip round.
/// </summary>
public sealed class SwarmRegistry : ReceiveActor, IWithTimers
{
    public static Props Props(TrackerSettings settings, IActorRef replicator) =>
        Akka.Actor.Props.Create(() => new SwarmRegistry(settings, replicator));

    private readonly TrackerSettings _settings;
    private readonly IActorRef _replicator;
    private readonly UniqueAddress _self;
    private readonly LWWDictionaryKey<string, PeerEntry>[] _peerKeys;
    private readonly PNCounterDictionaryKey<string>[] _downloadKeys;
    private readonly LWWDictionary<string, PeerEntry>[] _peers;
    private readonly PNCounterDictionary<string>[] _downloads;
    private readonly IWriteConsistency _announceWrite;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public SwarmRegistry(TrackerSettings settings, IActorRef replicator)
    {
        _settings = settings;
        _replicator = replicator;
        _self = Cluster.Get(Context.System).SelfUniqueAddress;
        _peerKeys = Enumerable.Range(0, settings.Shards).Select(i => new LWWDictionaryKey<string, PeerEntry>($"tracker-peers-{i}")).ToArray();
        _downloadKeys = Enumerable.Range(0, settings.Shards).Select(i => new PNCounterDictionaryKey<string>($"tracker-downloads-{i}")).ToArray();
        _peers = Enumerable.Repeat(LWWDictionary<string, PeerEntry>.Empty, settings.Shards).ToArray();
        _downloads = Enumerable.Repeat(PNCounterDictionary<string>.Empty, settings.Shards).ToArray();
        _announceWrite = settings.WriteMajority ? new WriteMajority(settings.WriteTimeout) : WriteLocal.Instance;

        Receive<Announce>(OnAnnounce);
        Receive<Scrape>(OnScrape);
        Receive<Prune>(_ => OnPrune());
        Receive<UpdateSuccess>(u => AfterUpdate(u.Request));
        // A majority write that timed out is still applied locally and spreads by gossip.
        Receive<UpdateTimeout>(u => { _log.Warning("Replication of {0} timed out; kept locally", u.Key); AfterUpdate(u.Request); });
        Receive<GetSuccess>(OnGetSuccess);
        Receive<NotFound>(n => { if (n.Request is PendingAnnounce p) Reply(p, LWWDictionary<string, PeerEntry>.Empty); });
        Receive<GetFailure>(f => { if (f.Request is PendingAnnounce p) Reply(p, _peers[p.Shard]); });
        Receive<Changed>(OnChanged);
        Receive<ModifyFailure>(f => _log.Error(f.Cause, "Swarm update failed: {0}", f.ErrorMessage));
        Receive<StoreFailure>(_ => { });
    }

    protected override void PreStart()
    {
        foreach (var key in _peerKeys) _replicator.Tell(Dsl.Subscribe(key, Self));
        foreach (var key in _downloadKeys) _replicator.Tell(Dsl.Subscribe(key, Self));
        Timers.StartPeriodicTimer(Prune.Instance, Prune.Instance, _settings.PruneInterval);
    }

    public static int ShardOf(string infoHashHex, int shards) => Convert.ToByte(infoHashHex[..2], 16) % shards;

    private void OnAnnounce(Announce announce)
    {
        var request = announce.Request;
        var shard = ShardOf(request.InfoHash, _settings.Shards);
        var entryKey = request.InfoHash + request.PeerId;
        var self = _self;
        Func<LWWDictionary<string, PeerEntry>, LWWDictionary<string, PeerEntry>> modify;
        if (request.Event == AnnounceEvent.Stopped)
            modify = d => d.ContainsKey(entryKey) ? d.Remove(self, entryKey) : d;
        else
        {
            var entry = new PeerEntry(request.Ip.ToString(), request.Port, request.IsSeeder, NowMs());
            modify = d => d.SetItem(self, entryKey, entry);
        }
        var pending = new PendingAnnounce(request, shard, Sender, announce.Correlation);
        _replicator.Tell(Dsl.Update(_peerKeys[shard], LWWDictionary<string, PeerEntry>.Empty, _announceWrite, pending, modify));

        if (request.Event == AnnounceEvent.Completed)
        {
            var infoHash = request.InfoHash;
            _replicator.Tell(Dsl.Update(_downloadKeys[shard], PNCounterDictionary<string>.Empty, WriteLocal.Instance,
                new DownloadsCounted(shard), d => d.Increment(self, infoHash, 1)));
        }
    }

    private void AfterUpdate(object? request)
    {
        switch (request)
        {
            case PendingAnnounce pending:
                _replicator.Tell(Dsl.Get(_peerKeys[pending.Shard], ReadLocal.Instance, pending));
                break;
            case DownloadsCounted counted:
                _replicator.Tell(Dsl.Get(_downloadKeys[counted.Shard], ReadLocal.Instance, counted));
                break;
        }
    }

    private void OnGetSuccess(GetSuccess get)
    {
        switch (get.Request)
        {
            case PendingAnnounce pending:
                var peers = get.Get(_peerKeys[pending.Shard]);
                _peers[pending.Shard] = peers;
                Reply(pending, peers);
                break;
            case DownloadsCounted counted:
                _downloads[counted.Shard] = get.Get(_downloadKeys[counted.Shard]);
                break;
        }
    }

    private void OnChanged(Changed changed)
    {
        for (var i = 0; i < _settings.Shards; i++)
        {
            if (changed.Key.Equals(_peerKeys[i])) { _peers[i] = changed.Get(_peerKeys[i]); return; }
            if (changed.Key.Equals(_downloadKeys[i])) { _downloads[i] = changed.Get(_downloadKeys[i]); return; }
        }
    }

    private void Reply(PendingAnnounce pending, LWWDictionary<string, PeerEntry> shard)
    {
        var request = pending.Request;
        var cutoff = NowMs() - (long)_settings.PeerExpiry.TotalMilliseconds;
        var self = request.InfoHash + request.PeerId;
        var candidates = new List<SwarmPeer>();
        int complete = 0, incomplete = 0;
        foreach (var (key, entry) in shard)
        {
            if (entry.LastSeen < cutoff || !key.StartsWith(request.InfoHash, StringComparison.Ordinal)) continue;
            if (entry.IsSeeder) complete++; else incomplete++;
            if (key == self) continue;
            var ip = IPAddress.Parse(entry.Ip);
            if (entry.Port == request.Port && ip.Equals(request.Ip)) continue; // the same client under a new peer id
            candidates.Add(new SwarmPeer(key[request.InfoHash.Length..], ip, entry.Port));
        }
        var wanted = request.Event == AnnounceEvent.Stopped ? 0 : Math.Min(request.NumWant, candidates.Count);
        // A random sample, so that large swarms do not always hand out the same peers.
        for (var i = 0; i < wanted; i++)
        {
            var j = Random.Shared.Next(i, candidates.Count);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        pending.ReplyTo.Tell(new Announced(request, candidates.GetRange(0, wanted), complete, incomplete, pending.Correlation));
    }

    private void OnScrape(Scrape scrape)
    {
        var cutoff = NowMs() - (long)_settings.PeerExpiry.TotalMilliseconds;
        var stats = new Dictionary<string, (int Complete, int Incomplete)>();
        IEnumerable<int> shards = scrape.InfoHashes.Count == 0
            ? Enumerable.Range(0, _settings.Shards)
            : scrape.InfoHashes.Select(h => ShardOf(h, _settings.Shards)).Distinct();
        var wanted = scrape.InfoHashes.Count == 0 ? null : new HashSet<string>(scrape.InfoHashes);
        foreach (var h in scrape.InfoHashes) stats[h] = (0, 0);

        foreach (var shard in shards)
        {
            foreach (var (key, entry) in _peers[shard])
            {
                if (entry.LastSeen < cutoff) continue;
                var infoHash = key[..40];
                if (wanted is not null && !wanted.Contains(infoHash)) continue;
                if (wanted is null && !stats.ContainsKey(infoHash) && stats.Count >= _settings.MaxScrapeAll) continue;
                stats.TryGetValue(infoHash, out var s);
                stats[infoHash] = entry.IsSeeder ? (s.Complete + 1, s.Incomplete) : (s.Complete, s.Incomplete + 1);
            }
        }
        var result = stats.Select(s =>
        {
            _downloads[ShardOf(s.Key, _settings.Shards)].TryGetValue(s.Key, out var downloaded);
            return new SwarmStats(s.Key, s.Value.Complete, s.Value.Incomplete, (long)downloaded);
        }).ToList();
        Sender.Tell(new Scraped(result, scrape.Correlation));
    }

    private void OnPrune()
    {
        var cutoff = NowMs() - (long)_settings.PeerExpiry.TotalMilliseconds;
        var self = _self;
        for (var shard = 0; shard < _settings.Shards; shard++)
        {
            var expired = _peers[shard].Where(e => e.Value.LastSeen < cutoff).Select(e => e.Key).ToList();
            if (expired.Count == 0) continue;
            _log.Debug("Pruning {0} expired peers from shard {1}", expired.Count, shard);
            _replicator.Tell(Dsl.Update(_peerKeys[shard], LWWDictionary<string, PeerEntry>.Empty, WriteLocal.Instance, d =>
            {
                // Re-check inside the update: a peer may have announced again since we looked.
                foreach (var key in expired)
                    if (d.TryGetValue(key, out var entry) && entry.LastSeen < cutoff)
                        d = d.Remove(self, key);
                return d;
            }));
        }
    }

    private static long NowMs() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
