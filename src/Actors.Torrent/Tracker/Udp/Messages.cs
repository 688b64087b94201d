using System.Net;

namespace Actors.Torrent.Tracker.Udp;

/// <summary>Messages of the <see cref="UdpTracker"/>.</summary>
public static class UdpTrackerProtocol
{
    /// <summary>Where the UDP socket listens; answered with <see cref="UdpListening"/> once bound.</summary>
    public sealed record GetUdpListening
    {
        public static GetUdpListening Instance { get; } = new();
    }

    public sealed record UdpListening(IPEndPoint LocalAddress);

    /// <summary>Asks for the counters (tests, diagnostics); answered with <see cref="UdpTrackerStats"/>.</summary>
    public sealed record GetUdpStats
    {
        public static GetUdpStats Instance { get; } = new();
    }

    /// <param name="Dropped">Datagrams that were not BEP 15 requests: no answer at all.</param>
    /// <param name="BadConnectionIds">Requests whose connection id was not ours (forged, expired, another node's): a short error at most.</param>
    /// <param name="Busy">Requests refused because <c>max-pending-announces</c> were already waiting for the registry.</param>
    /// <param name="Overflowed">Datagrams dropped unread because <c>max-queued-datagrams</c> were already waiting for the actor (a flood).</param>
    public sealed record UdpTrackerStats(long Received, long Dropped, long BadConnectionIds, long Connects, long Announces,
        long Scrapes, long Errors, long Busy, long SendFailures, long Overflowed);

    /// <summary>
    /// The correlation an announce carries through the registry: where and how to answer. It never
    /// leaves this node, so the tracker keeps no table of requests in flight.
    /// </summary>
    internal sealed record AnnounceReply(IPEndPoint Remote, int TransactionId, bool Ipv6);

    internal sealed record ScrapeReply(IPEndPoint Remote, int TransactionId);
}
