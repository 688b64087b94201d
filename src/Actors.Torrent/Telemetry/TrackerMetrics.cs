using System.Diagnostics.Metrics;
using Actors.Torrent.Tracker;

namespace Actors.Torrent.Telemetry;

/// <summary>The tracker's figures: announces answered, and the swarms and peers this node knows.</summary>
public static class TrackerMetrics
{
    public const string MeterName = "Actors.Torrent.Tracker";
    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Announces =
        Meter.CreateCounter<long>("actors.tracker.announces", "{announce}", "announces received");

    public static readonly Gauge<long> Swarms =
        Meter.CreateGauge<long>("actors.tracker.swarms", "{swarm}", "swarms known to this node (cluster-wide view)");

    public static readonly Gauge<long> Peers =
        Meter.CreateGauge<long>("actors.tracker.peers", "{peer}", "peers known to this node (cluster-wide view)");

    /// <summary>One announce taken; the swarm figures as the node's index now holds them.</summary>
    public static void Announced(IReadOnlyList<SwarmIndex> shards)
    {
        Announces.Add(1);
        long swarms = 0, peers = 0;
        foreach (var shard in shards) { swarms += shard.InfoHashes.Count; peers += shard.PeerCount; }
        Swarms.Record(swarms);
        Peers.Record(peers);
    }
}
