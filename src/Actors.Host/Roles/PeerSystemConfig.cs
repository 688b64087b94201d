using Actors.Host.Hosting;
using Actors.Torrent.Peer.Connections;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// The actor system configuration of an <c>actors peer</c> process. Its own lines (progress,
/// summary) are its output, so Akka speaks only when something is wrong; and a process of many
/// peers takes their settings (<see cref="ManyPeers"/>).
/// </summary>
public static class PeerSystemConfig
{
    /// <summary>The configuration for a process running <paramref name="count"/> peers.</summary>
    public static Config For(Config loaded, int count)
    {
        var many = ManyPeers.Runs(loaded, count);
        var manyPeers = many ? "\n" + ManyPeers.Hocon(loaded) : "";
        var config = ConfigLoader.ForLocalSystem(ConfigurationFactory.ParseString("akka.loglevel = WARNING" + manyPeers).WithFallback(loaded));
        // The frame of a process of many peers comes from its own setting, after loading.
        if (many) ConfigLoader.CheckTcpSizes(config, "actors.peer.many-peers-frame-size");
        return config;
    }
}
