using Actors.Net.Configuration;
using Akka.Configuration;

namespace Actors.Torrent.Peer.Connections;

/// <summary>
/// How many sockets the peers of one process may use, and how fast they may open them
/// (HOCON <c>actors.peer</c>, see config/peer.conf). Like libtorrent's connections_limit,
/// half-open limit and connection_speed.
/// </summary>
public sealed record ConnectionLimits
{
    /// <summary>Sockets (peer connections, both ends count when both are ours) for the whole process; 0: derived from the descriptor limit.</summary>
    public int MaxConnections { get; init; } = 4096;
    /// <summary>Outgoing connects not yet answered, for the whole process.</summary>
    public int MaxHalfOpen { get; init; } = 128;
    /// <summary>New outgoing connects per second, for the whole process.</summary>
    public int ConnectsPerSecond { get; init; } = 500;
    /// <summary>Descriptors kept free for everything that is not a peer connection (runtime, HTTP, logs).</summary>
    public int ReservedDescriptors { get; init; } = 256;
    /// <summary>Descriptors each torrent needs besides its connections: its listening socket and its files.</summary>
    public int DescriptorsPerTorrent { get; init; } = 3;
    /// <summary>A torrent is always allowed this many connections, however tight the budget.</summary>
    public int MinPeersPerTorrent { get; init; } = 4;
    /// <summary>The longest dials pause after the machine ran out of descriptors or ports (doubling from 1 s).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>When the budget is tight, a connection this old where neither side is interested is closed to make room.</summary>
    public TimeSpan UselessAfter { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>A peer we were disconnected from (shed, refused, dropped) is dialled again no sooner than this.</summary>
    public TimeSpan RedialAfter { get; init; } = TimeSpan.FromSeconds(20);

    public static ConnectionLimits Default { get; } = new();

    /// <summary>Reads <c>actors.peer.*</c>; a bad value throws <see cref="SettingsException"/> naming its key.</summary>
    public static ConnectionLimits FromConfig(Config config)
    {
        var read = new SettingsReader(config, "actors.peer");
        return new ConnectionLimits
        {
            MaxConnections = read.Int("max-connections", 0, 1_000_000),
            MaxHalfOpen = read.Int("max-half-open", 1, 100_000),
            ConnectsPerSecond = read.Int("connects-per-second", 1, 100_000),
            ReservedDescriptors = read.Int("reserved-descriptors", 0, 1_000_000),
            MinPeersPerTorrent = read.Int("min-peers-per-torrent", 1, 10_000),
            MaxBackoff = read.Duration("max-backoff", TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            UselessAfter = read.Duration("useless-after", TimeSpan.Zero, TimeSpan.FromHours(1)),
            RedialAfter = read.Duration("redial-after", TimeSpan.Zero, TimeSpan.FromHours(1)),
        };
    }
}
