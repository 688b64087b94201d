using System.Net;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Helpers shared by the actor-level peer tests: a content file, its torrent, an actor system tuned for bulk TCP.</summary>
public static class SwarmFixture
{
    public static readonly Config Config = ConfigurationFactory.ParseString("""
        akka.loglevel = WARNING
        akka.io.tcp.maximum-frame-size = 64 KiB
        akka.io.tcp.send-buffer-size = 128 KiB
        akka.io.tcp.receive-buffer-size = 128 KiB
        """);

    public static (TorrentMetainfo Torrent, byte[] TorrentBytes, byte[] Content) MakeTorrent(
        TempDirectory temp, string name, int length, int pieceLength = 32 * 1024, IReadOnlyList<string>? trackers = null)
    {
        var content = TempDirectory.RandomBytes(length, length);
        temp.WriteFile("seed/" + name, content);
        var bytes = TorrentCreator.Create(temp.Combine("seed", name),
            new TorrentCreateOptions { PieceLength = pieceLength, Trackers = trackers ?? [] });
        return (TorrentMetainfo.Parse(bytes), bytes, content);
    }

    public static IActorRef Start(ActorSystem system, TorrentSettings settings, string name) =>
        system.ActorOf(TorrentActor.Props(settings), name);

    public static async Task<TorrentProgress> ProgressOf(IActorRef torrent) =>
        await torrent.Ask<TorrentProgress>(TorrentActor.GetProgress.Instance, TimeSpan.FromSeconds(5));

    public static async Task<int> PortOf(IActorRef torrent)
    {
        for (var i = 0; i < 100; i++)
        {
            var p = await ProgressOf(torrent);
            if (p.ListenPort > 0) return p.ListenPort;
            await Task.Delay(50);
        }
        throw new TimeoutException("torrent never listened");
    }

    public static async Task<TorrentProgress> Completion(IActorRef torrent, TimeSpan timeout) =>
        (await torrent.Ask<TorrentActor.TorrentCompleted>(TorrentActor.NotifyWhenComplete.Instance, timeout)).Progress;

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);
}
