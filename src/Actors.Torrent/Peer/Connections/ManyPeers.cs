using Actors.Net.Configuration;
using Actors.Net.Mailboxes;
using Akka.Configuration;

namespace Actors.Torrent.Peer.Connections;

/// <summary>
/// A process of many peers (<c>actors.peer.many-peers</c>, config/peer.conf) trades the CPU of
/// bulk sends for memory per connection: Akka.IO 1.5.73 holds a receive buffer of the frame size
/// for each connection's life and cuts writes into sends of that size, and Akka's default mailbox
/// holds a 32-envelope segment per actor. Such a process takes the small frame and
/// <see cref="CompactMailbox"/> for every actor; a lone peer keeps the bulk settings.
/// </summary>
public static class ManyPeers
{
    /// <summary>Whether <paramref name="count"/> peers in one process make it a process of many peers.</summary>
    public static bool Runs(Config config, int count) => count >= Read(config).Int("many-peers", 1, 1_000_000);

    /// <summary>The Akka.IO frame of a process of many peers, bytes.</summary>
    public static long Frame(Config config) => Read(config).Bytes("many-peers-frame-size", 1024, 1024 * 1024);

    /// <summary>The HOCON a process of many peers runs with, over its configuration.</summary>
    public static string Hocon(Config config) => $"akka.io.tcp.maximum-frame-size = {Frame(config)}\n{CompactMailbox.ForWholeSystem}";

    private static SettingsReader Read(Config config) => new(config, "actors.peer");
}
