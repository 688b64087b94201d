using System.Diagnostics.Metrics;

namespace Actors.Torrent.Telemetry;

/// <summary>The tracker's figures: announces answered, and the swarms and peers this node knows.</summary>
public static class TrackerMetrics
{
    public const string MeterName = "Actors.Torrent.Tracker";
    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Announces =
        Meter.CreateCounter<long>("actors.tracker.announces", "{announce}", "announces received");

    public static readonly Gauge<long> Swarms =
        Meter.CreateGauge<long>("actors.tracker.swarms", "{swarm}", "swarms this node holds (owned or backed up)");

    public static readonly Gauge<long> Peers =
        Meter.CreateGauge<long>("actors.tracker.peers", "{peer}", "peers this node holds (owned or backed up)");

    public static readonly Counter<long> UdpRequests =
        Meter.CreateCounter<long>("actors.tracker.udp.requests", "{datagram}", "UDP tracker requests answered or passed on, by action");

    public static readonly Counter<long> UdpDropped =
        Meter.CreateCounter<long>("actors.tracker.udp.dropped", "{datagram}", "UDP datagrams dropped unanswered (not BEP 15) or refused (unknown connection id), by reason");

    // The replica stream between holders (SwarmRegistry.Replication): changes / batches is the
    // average batch, ack wait / acknowledged the average round trip a synchronous answer waits.
    public static readonly Counter<long> ReplicaBatches =
        Meter.CreateCounter<long>("actors.tracker.replica.batches", "{batch}", "replica batches sent to other holders");

    public static readonly Counter<long> ReplicaChanges =
        Meter.CreateCounter<long>("actors.tracker.replica.changes", "{change}", "peer changes sent to other holders in replica batches");

    public static readonly Counter<long> ReplicaAcknowledged =
        Meter.CreateCounter<long>("actors.tracker.replica.acknowledged", "{batch}", "replica batches another holder acknowledged");

    public static readonly Counter<long> ReplicaAckWait =
        Meter.CreateCounter<long>("actors.tracker.replica.ack_wait", "ms", "sum of the time from sending each acknowledged replica batch to its acknowledgement");

    public static readonly Counter<long> ReplicaTimeouts =
        Meter.CreateCounter<long>("actors.tracker.replica.timeouts", "{batch}", "replica batches given up on after write-timeout (their announces answered from this node's copy alone)");

    public static readonly Counter<long> Forwards =
        Meter.CreateCounter<long>("actors.tracker.forwards", "{announce}", "announces forwarded to the owner of a partition this node holds no copy of");

    /// <summary>One announce taken; the swarms and peers this node's store holds now (owned and backed up).</summary>
    public static void Announced(long swarms, long peers)
    {
        Announces.Add(1);
        Swarms.Record(swarms);
        Peers.Record(peers);
    }
}
