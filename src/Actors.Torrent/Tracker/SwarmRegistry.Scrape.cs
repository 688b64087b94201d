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
