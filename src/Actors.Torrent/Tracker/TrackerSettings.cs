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
    int Partitions,
    bool SyncReplication,
    TimeSpan WriteTimeout,
    TimeSpan ForwardTimeout,
    int MaxPendingAnnounces = 10_000,
    int ReplicaBatchMax = 1000,
    int ReplicaBatchesInFlight = 4,
    int SnapshotChunk = 4096,
    TimeSpan HandoverGrace = default,
    TimeSpan HandoverTimeout = default,
    int HandoverAttempts = 5,
    int Replicas = 2,
    int? UdpPort = null)
{
    /// <summary>
    /// <see cref="UdpPort"/> is the BEP 15 UDP port: null (HOCON <c>udp-port = same</c>) takes the
    /// HTTP port's number, as opentracker does; 0 turns UDP off.
    /// </summary>
    public bool UdpSameAsHttp => UdpPort is null;

    public static TrackerSettings Default { get; } = new(
        TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(60), TimeSpan.FromMinutes(1),
        new TrackerRequestLimits(), 1000, 256, true, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10),
        HandoverGrace: TimeSpan.FromSeconds(30), HandoverTimeout: TimeSpan.FromSeconds(5));

    /// <summary>Reads <c>actors.tracker</c>; throws <see cref="SettingsException"/> naming the first bad key.</summary>
    public static TrackerSettings Read(Config config)
    {
        var read = new SettingsReader(config, "actors.tracker");
        var interval = read.Duration("interval", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        var minInterval = read.Duration("min-interval", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        if (minInterval > interval) throw new SettingsException("actors.tracker.min-interval", "must not exceed interval");
        var expiry = read.Duration("peer-expiry", TimeSpan.FromSeconds(1), TimeSpan.FromDays(2));
        if (expiry < interval) throw new SettingsException("actors.tracker.peer-expiry", "must be at least interval");
        var replication = read.String("replication");
        if (replication is not ("sync" or "async"))
            throw new SettingsException("actors.tracker.replication", $"expected sync or async, got \"{replication}\"");
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
            read.Int("partitions", 1, 65_536),
            replication == "sync",
            read.Duration("write-timeout", TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(1)),
            read.Duration("forward-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)),
            read.Int("max-pending-announces", 1, 10_000_000),
            read.Int("replica-batch-max", 1, 100_000),
            read.Int("replica-batches-in-flight", 1, 64),
            read.Int("snapshot-chunk", 1, 100_000),
            read.Duration("handover-grace", TimeSpan.Zero, TimeSpan.FromHours(1)),
            read.Duration("handover-timeout", TimeSpan.FromMilliseconds(50), TimeSpan.FromMinutes(10)),
            read.Int("handover-attempts", 1, 1000),
            read.Int("replicas", 1, 7),
            ReadUdpPort(config));
    }

    private static int? ReadUdpPort(Config config)
    {
        const string key = "actors.tracker.udp-port";
        if (!config.HasPath(key)) return null;
        var text = config.GetString(key);
        if (text == "same") return null;
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port <= 65535)
            return port;
        throw new SettingsException(key, $"expected same, 0 (off) or a port number, got \"{text}\"");
    }
}
