using Actors.Net.Configuration;
using Akka.Configuration;

namespace Actors.Torrent.Tracker;

/// <summary>Everything the tracker reads from <c>actors.tracker</c> (see config/tracker.conf).</summary>
public sealed record TrackerSettings(
    TimeSpan Interval,
    TimeSpan MinInterval,
    TimeSpan PeerExpiry,
    TimeSpan PruneInterval,
    TrackerRequestLimits Limits,
    int MaxScrapeAll,
    int Shards,
    bool WriteMajority,
    TimeSpan WriteTimeout,
    TimeSpan WriteBatchWindow = default,
    int WriteBatchMax = 500,
    int MaxPendingAnnounces = 10_000)
{
    public static TrackerSettings Default { get; } = new(
        TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(1),
        new TrackerRequestLimits(), 1000, 32, true, TimeSpan.FromSeconds(2));

    /// <summary>Reads <c>actors.tracker</c>; throws <see cref="SettingsException"/> naming the first bad key.</summary>
    public static TrackerSettings Read(Config config)
    {
        var read = new SettingsReader(config, "actors.tracker");
        var interval = read.Duration("interval", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        var minInterval = read.Duration("min-interval", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        if (minInterval > interval) throw new SettingsException("actors.tracker.min-interval", "must not exceed interval");
        var expiry = read.Duration("peer-expiry", TimeSpan.FromSeconds(1), TimeSpan.FromDays(2));
        if (expiry < interval) throw new SettingsException("actors.tracker.peer-expiry", "must be at least interval");
        var consistency = read.String("write-consistency");
        if (consistency is not ("majority" or "local"))
            throw new SettingsException("actors.tracker.write-consistency", $"expected majority or local, got \"{consistency}\"");
        var maxNumWant = read.Int("max-numwant", 0, 10_000);
        return new TrackerSettings(
            interval, minInterval, expiry,
            read.Duration("prune-interval", TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1)),
            new TrackerRequestLimits(
                DefaultNumWant: Math.Min(read.Int("default-numwant", 0, 10_000), maxNumWant),
                MaxNumWant: maxNumWant,
                MaxQueryLength: read.Int("max-query-length", 256, 1 << 20),
                MaxParameters: read.Int("max-parameters", 16, 10_000),
                MaxScrapeHashes: read.Int("max-scrape-hashes", 1, 10_000)),
            read.Int("max-scrape-all", 0, 1_000_000),
            read.Int("shards", 1, 1024),
            consistency == "majority",
            read.Duration("write-timeout", TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(1)),
            read.Duration("write-batch-window", TimeSpan.Zero, TimeSpan.FromSeconds(1)),
            read.Int("write-batch-max", 1, 100_000),
            read.Int("max-pending-announces", 1, 10_000_000));
    }
}
