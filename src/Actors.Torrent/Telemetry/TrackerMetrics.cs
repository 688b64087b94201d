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

    /// <summary>One announce taken; the swarms and peers this node's store holds now (owned and backed up).</summary>
    public static void Announced(long swarms, long peers)
    {
        Announces.Add(1);
        Swarms.Record(swarms);
        Peers.Record(peers);
    }
}
