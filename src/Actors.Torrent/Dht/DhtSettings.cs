using System.Net;

namespace Actors.Torrent.Dht;

/// <summary>Everything a <see cref="DhtNode"/> is told at start; defaults follow BEP 5 and common clients.</summary>
public sealed record DhtSettings
{
    /// <summary>Address the UDP socket binds to.</summary>
    public IPAddress Host { get; init; } = IPAddress.Any;

    /// <summary>UDP port; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Our node id; null: the state file's, else a random one.</summary>
    public NodeId? Id { get; init; }

    /// <summary>Nodes to join through (their ids are learned from their answers).</summary>
    public IReadOnlyList<IPEndPoint> Bootstrap { get; init; } = [];

    /// <summary>Where the node id and good nodes are kept across runs; null: nowhere.</summary>
    public string? StateFile { get; init; }

    public int K { get; init; } = RoutingTable.DefaultK;

    /// <summary>Queries in flight per lookup.</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>How long an answer is waited for.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A lookup's query unanswered after this long stops holding one of the α slots (libtorrent's
    /// "short timeout"): one more node is asked while it may still answer until <see cref="QueryTimeout"/>,
    /// and the lookup does not wait for it to end. Zero: off (every query holds its slot to the end).
    /// </summary>
    public TimeSpan SlowQueryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Queries in flight per node; past it a query fails at once.</summary>
    public int MaxOutstandingQueries { get; init; } = 256;

    /// <summary>Lookups running at once per node; past it a lookup is refused.</summary>
    public int MaxConcurrentLookups { get; init; } = 32;

    /// <summary>A lookup that has not converged by then ends with what it has.</summary>
    public TimeSpan LookupDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most queries one lookup sends.</summary>
    public int MaxQueriesPerLookup { get; init; } = 200;

    /// <summary>How often the table is tended (refresh, pings, expiry, state file).</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A bucket untouched for this long is refreshed with a lookup (BEP 5: 15 minutes).</summary>
    public TimeSpan BucketRefreshInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>The token secret changes this often (BEP 5: 5 minutes; the previous one is still accepted).</summary>
    public TimeSpan TokenRotation { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>First wait before bootstrapping again while the table is empty (doubles to 1 minute).</summary>
    public TimeSpan BootstrapRetry { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan PeerTtl { get; init; } = TimeSpan.FromMinutes(30);
    public int MaxPeersPerInfoHash { get; init; } = 200;
    public int MaxInfoHashes { get; init; } = 5000;

    /// <summary>A node advertised by a BEP 5 <c>port</c> message is pinged at most once in this time.</summary>
    public TimeSpan AdvertisedPingInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Advertised endpoints remembered (for <see cref="AdvertisedPingInterval"/>); past it new ones are ignored.</summary>
    public int MaxAdvertised { get; init; } = 1000;

    /// <summary>Datagrams per second accepted from one source (bursts of twice that).</summary>
    public double RatePerSource { get; init; } = 50;
}
