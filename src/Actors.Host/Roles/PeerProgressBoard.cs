using Actors.Torrent.Peer;
using Akka.Actor;

namespace Actors.Host.Roles;

/// <summary>
/// The progress of every torrent of an `actors peer` process, pushed by the torrents
/// (<see cref="TorrentActor.SubscribeProgress"/>: when it changes, never on a timer), read by the
/// command with one <see cref="GetAll"/> per round instead of one <c>Ask</c> per torrent: with
/// <c>--count 1000</c> that was 1,000 temporary actors a second while nothing moved.
/// </summary>
public sealed class PeerProgressBoard : ReceiveActor
{
    /// <summary>Answered with <see cref="All"/>.</summary>
    public sealed class GetAll { public static readonly GetAll Instance = new(); private GetAll() { } }
    /// <summary>Each torrent's latest progress, by index; null until the torrent first told it (still checking the disk).</summary>
    public sealed record All(IReadOnlyList<TorrentProgress?> Progress);

    private readonly TorrentProgress?[] _progress;

    public static Props Props(IReadOnlyList<IActorRef> torrents) => Akka.Actor.Props.Create(() => new PeerProgressBoard(torrents));

    public PeerProgressBoard(IReadOnlyList<IActorRef> torrents)
    {
        _progress = new TorrentProgress?[torrents.Count];
        for (var i = 0; i < torrents.Count; i++) torrents[i].Tell(new TorrentActor.SubscribeProgress(Self, i));
        Receive<TorrentActor.ProgressChanged>(changed =>
        {
            if (changed.Tag >= 0 && changed.Tag < _progress.Length) _progress[changed.Tag] = changed.Progress;
        });
        Receive<GetAll>(_ => Sender.Tell(new All((TorrentProgress?[])_progress.Clone())));
    }
}
