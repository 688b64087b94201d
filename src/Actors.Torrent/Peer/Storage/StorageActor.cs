using Actors.Torrent.Metainfo;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer.Storage;

/// <summary>
/// Owns one torrent's files. Every disk operation of the torrent goes through this actor, one
/// at a time, so reads and writes never race; verified pieces are the only ones ever written.
/// </summary>
public sealed class StorageActor : ReceiveActor
{
    /// <summary>Hash what is already on disk; answered with <see cref="PiecesChecked"/>.</summary>
    public sealed class CheckPieces { public static readonly CheckPieces Instance = new(); private CheckPieces() { } }
    public sealed record PiecesChecked(PieceSet Have);

    /// <summary>Verify and, if the SHA-1 matches, write a whole piece; answered with <see cref="PieceStored"/>.</summary>
    public sealed record StorePiece(int Index, byte[] Data);
    public sealed record PieceStored(int Index, bool Valid);

    /// <summary>Read one block to serve a peer; answered with <see cref="BlockRead"/> or <see cref="BlockReadFailed"/>.</summary>
    public sealed record ReadBlock(int Index, int Begin, int Length);
    public sealed record BlockRead(int Index, int Begin, byte[] Data);
    public sealed record BlockReadFailed(int Index, int Begin, string Reason);

    private readonly TorrentMetainfo _torrent;
    private readonly string _directory;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PieceStore _store = null!;

    public static Props Props(TorrentMetainfo torrent, string directory) =>
        Akka.Actor.Props.Create(() => new StorageActor(torrent, directory));

    public StorageActor(TorrentMetainfo torrent, string directory)
    {
        _torrent = torrent;
        _directory = directory;
        Receive<CheckPieces>(_ => Sender.Tell(new PiecesChecked(_store.CheckExisting())));
        Receive<StorePiece>(Store);
        Receive<ReadBlock>(Read);
    }

    protected override void PreStart()
    {
        _store = PieceStore.Open(_torrent, _directory);
        _log.Info("Storage for {0} at {1}", _torrent.Name, _store.Root);
    }

    protected override void PostStop() => _store?.Dispose();

    private void Store(StorePiece store)
    {
        if (!_store.Matches(store.Index, store.Data))
        {
            Sender.Tell(new PieceStored(store.Index, Valid: false));
            return;
        }
        // A write failure (disk full) is not recoverable here: let the supervisor decide.
        _store.WritePiece(store.Index, store.Data);
        Sender.Tell(new PieceStored(store.Index, Valid: true));
    }

    private void Read(ReadBlock read)
    {
        try
        {
            Sender.Tell(new BlockRead(read.Index, read.Begin, _store.ReadBlock(read.Index, read.Begin, read.Length)));
        }
        catch (Exception ex) when (ex is IOException or ArgumentOutOfRangeException)
        {
            Sender.Tell(new BlockReadFailed(read.Index, read.Begin, ex.Message));
        }
    }
}
