using Actors.Host.Hosting;
using Actors.Net.Configuration;
using Actors.Net.Mailboxes;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// The actor system configuration of an <c>actors peer</c> process. Its own lines (progress,
/// summary) are its output, so Akka speaks only when something is wrong; and a process of many
/// peers (<c>actors.peer.many-peers</c>, config/peer.conf) trades the CPU of bulk sends for memory
/// per connection: the small Akka.IO frame and the compact mailbox for every actor.
/// </summary>
public static class PeerSystemConfig
{
    /// <summary>The configuration for a process running <paramref name="count"/> peers.</summary>
    public static Config For(Config loaded, int count)
    {
        var manyPeers = RunsManyPeers(loaded, count)
            ? $"\nakka.io.tcp.maximum-frame-size = {ManyPeersFrame(loaded)}\n{CompactMailbox.ForWholeSystem}"
            : "";
        return ConfigLoader.ForLocalSystem(ConfigurationFactory.ParseString("akka.loglevel = WARNING" + manyPeers).WithFallback(loaded));
    }

    /// <summary>Whether <paramref name="count"/> peers in one process make it a process of many peers.</summary>
    public static bool RunsManyPeers(Config loaded, int count) => count >= Read(loaded).Int("many-peers", 1, 1_000_000);

    /// <summary>The Akka.IO frame of a process of many peers, bytes.</summary>
    public static long ManyPeersFrame(Config loaded) => Read(loaded).Bytes("many-peers-frame-size", 1024, 1024 * 1024);

    private static SettingsReader Read(Config loaded) => new(loaded, "actors.peer");
}
