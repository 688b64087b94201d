using System.Buffers;
using Actors.Net.Logging;
using Actors.Net.Scheduling;
using Actors.Net.Supervision;
using Actors.Torrent.Metainfo;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer.Storage;

/// <summary>
/// Owns one torrent's files. Every disk operation of the torrent goes through this actor, one
/// at a time, so reads and writes never race; verified pieces are the only ones ever written.
/// Runs on Akka's blocking-I/O dispatcher: SHA-1 and disk I/O never hold the threads of the
/// connection actors. Storage that cannot be opened, read at start or written (read-only
/// folder, full disk, a file refused or deleted under us) is fatal for the torrent: it throws
/// <see cref="StorageFailedException"/>, which <see cref="FailurePolicy"/> escalates. One cause is
/// not: a process out of descriptors (EMFILE, ENFILE) cannot open the files *yet*; storage tries
/// again, backing off, and keeps the torrent's requests until they are open.
/// </summary>
public sealed class StorageActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>Hash what is already on disk; answered with <see cref="PiecesChecked"/>.</summary>
    public sealed class CheckPieces { public static readonly CheckPieces Instance = new(); private CheckPieces() { } }
    public sealed record PiecesChecked(PieceSet Have);

    /// <summary>
    /// Verify and, if the SHA-1 matches, write a whole piece; answered with <see cref="PieceStored"/>.
    /// <paramref name="Data"/>'s array is rented from <see cref="ArrayPool{T}.Shared"/>: storage gives it
    /// back once the piece is judged (and written).
    /// </summary>
    public sealed record StorePiece(int Index, ArraySegment<byte> Data);
    public sealed record PieceStored(int Index, bool Valid);

    /// <summary>One block to read for a peer: <paramref name="Length"/> bytes at <paramref name="Begin"/> of piece <paramref name="Index"/>.</summary>
    public readonly record struct BlockAt(int Index, int Begin, int Length);

    /// <summary>
    /// Read blocks to serve a peer, in one message however many (a connection asks for what its
    /// peer's last requests allow at once); answered with one <see cref="BlocksRead"/>. Blocks that
    /// follow each other on disk are read with one system call (a scatter read): a seeder serving
    /// a GiB did 65,536 reads of 16 KiB and three messages per block before.
    /// </summary>
    public sealed record ReadBlocks(IReadOnlyList<BlockAt> Blocks);

    /// <summary>
    /// A block read. <paramref name="Data"/>'s array is rented from <see cref="ArrayPool{T}.Shared"/>
    /// (it may be longer than the block): the receiver returns it to the pool once the socket has
    /// taken the bytes (a seeder sends a GiB in 65,536 blocks: allocated, each would be a 16 KiB
    /// array for the GC to collect). One that is never returned is only collected.
    /// </summary>
    public sealed record BlockRead(int Index, int Begin, ArraySegment<byte> Data);
    public sealed record BlockReadFailed(int Index, int Begin, string Reason);

    /// <summary>The answer to <see cref="ReadBlocks"/>: the blocks read, in the order asked, then those that could not be.</summary>
    public sealed record BlocksRead(IReadOnlyList<BlockRead> Read, IReadOnlyList<BlockReadFailed> Failed);

    /// <summary>The torrent's files cannot be used; the message names the file and the cause.</summary>
    public sealed class StorageFailedException(string message, Exception? inner = null) : FatalRoleException(message, inner);

    private sealed class CheckFiles { public static readonly CheckFiles Instance = new(); }
    private sealed class RetryOpen { public static readonly RetryOpen Instance = new(); }

    /// <summary>The first wait before opening the files again when descriptors ran out; it doubles up to <see cref="MaxOpenBackoff"/>.</summary>
    public static readonly TimeSpan FirstOpenBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxOpenBackoff = TimeSpan.FromSeconds(16);

    /// <summary>How often a seeding torrent (which writes nothing) checks that its files are still there.</summary>
    public static readonly TimeSpan FileCheckInterval = TimeSpan.FromSeconds(2);

    private readonly TorrentMetainfo _torrent;
    private readonly string _directory;
    private readonly IActorRef _ticks;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LogEvery _exhaustionLog;
    private readonly Func<TorrentMetainfo, string, PieceStore> _open;
    private TimeSpan _openBackoff;
    private PieceStore _store = null!;

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="ticks">The process's <see cref="TickWheel"/>: the periodic file check.</param>
    /// <param name="exhaustionLog">
    /// The process's count of "out of descriptors" warnings (its connection budget's), so that
    /// dials, binds and file opens that fail for that one reason log one line per interval together.
    /// </param>
    /// <param name="open">How the files are opened (tests); <see cref="PieceStore.Open"/> by default.</param>
    public static Props Props(TorrentMetainfo torrent, string directory, IActorRef ticks, LogEvery? exhaustionLog = null,
        Func<TorrentMetainfo, string, PieceStore>? open = null) =>
        Akka.Actor.Props.Create(() => new StorageActor(torrent, directory, ticks, exhaustionLog, open)).WithDispatcher(Dispatcher);

    /// <summary>Akka's dispatcher for blocking work; config/cluster.conf gives it threads of its own.</summary>
    public const string Dispatcher = "akka.actor.default-blocking-io-dispatcher";

    public StorageActor(TorrentMetainfo torrent, string directory, IActorRef ticks, LogEvery? exhaustionLog, Func<TorrentMetainfo, string, PieceStore>? open)
    {
        _torrent = torrent;
        _directory = directory;
        _ticks = ticks;
        _exhaustionLog = exhaustionLog ?? new LogEvery(TimeSpan.FromSeconds(10));
        _open = open ?? PieceStore.Open;
        Receive<RetryOpen>(_ => TryOpen());
        ReceiveAny(_ => Stash.Stash());
    }

    protected override void PreStart() => TryOpen();

    private void TryOpen()
    {
        try
        {
            _store = Fatal("cannot open the torrent's files", () => _open(_torrent, _directory));
        }
        catch (StorageFailedException ex) when (IsOutOfDescriptors(ex))
        {
            _openBackoff = _openBackoff == TimeSpan.Zero ? FirstOpenBackoff : TimeSpan.FromTicks(Math.Min(MaxOpenBackoff.Ticks, _openBackoff.Ticks * 2));
            if (_exhaustionLog.ShouldLog(out var count))
                _log.Warning("{0}: {1}; retrying in {2:F0} s ({3} such failures since the last warning)", _torrent.Name, ex.Message, _openBackoff.TotalSeconds, count);
            Timers.StartSingleTimer(RetryOpen.Instance, RetryOpen.Instance, _openBackoff);
            return;
        }
        _log.Info("Storage for {0} at {1}", _torrent.Name, _store.Root);
        // On the process's wheel: 1,000 torrents' checks come in a few batches per second, not 500 wake-ups.
        _ticks.Tell(new TickWheel.Subscribe(Self, CheckFiles.Instance, FileCheckInterval));
        Become(Ready);
        Stash.UnstashAll();
    }

    /// <summary>
    /// The process, not the disk, is out of something that comes back: file descriptors (EMFILE,
    /// ENFILE: .NET's IOException carries the errno as its HResult on Unix).
    /// </summary>
    public static bool IsOutOfDescriptors(Exception ex) =>
        ex is IOException { HResult: Emfile or Enfile } || ex.InnerException is { } inner && IsOutOfDescriptors(inner);

    private const int Emfile = 24, Enfile = 23; // errno on Linux (and macOS)

    private void Ready()
    {
        Receive<CheckPieces>(_ => Sender.Tell(new PiecesChecked(Fatal("cannot use the existing files", () => _store.CheckExisting()))));
        Receive<StorePiece>(Store);
        Receive<ReadBlocks>(Read);
        Receive<CheckFiles>(_ =>
        {
            if (_store.MissingFile() is { } missing)
                throw new StorageFailedException($"'{missing}' vanished while the torrent was using it");
        });
    }

    protected override void PostStop() => _store?.Dispose();

    private void Store(StorePiece store)
    {
        var valid = _store.Matches(store.Index, store.Data);
        // A write failure (disk full, file deleted) is not recoverable here: fatal for the torrent.
        if (valid) Fatal($"cannot write piece {store.Index}", () => { _store.WritePiece(store.Index, store.Data); return true; });
        ArrayPool<byte>.Shared.Return(store.Data.Array!);
        Sender.Tell(new PieceStored(store.Index, valid));
    }

    private void Read(ReadBlocks request)
    {
        var blocks = request.Blocks;
        var read = new List<BlockRead>(blocks.Count);
        List<BlockReadFailed>? failed = null;
        var buffers = new byte[blocks.Count][];
        for (var i = 0; i < blocks.Count; i++) buffers[i] = ArrayPool<byte>.Shared.Rent(blocks[i].Length);
        // Runs of blocks that follow each other on disk, each read at once.
        var first = 0;
        while (first < blocks.Count)
        {
            var end = first + 1;
            while (end < blocks.Count && Follows(blocks[end - 1], blocks[end])) end++;
            try
            {
                var run = new Memory<byte>[end - first];
                for (var i = first; i < end; i++) run[i - first] = buffers[i].AsMemory(0, blocks[i].Length);
                _store.ReadBlocks(blocks[first].Index, blocks[first].Begin, run);
                for (var i = first; i < end; i++)
                    read.Add(new BlockRead(blocks[i].Index, blocks[i].Begin, new ArraySegment<byte>(buffers[i], 0, blocks[i].Length)));
            }
            catch (Exception ex) when (ex is IOException or ArgumentOutOfRangeException)
            {
                for (var i = first; i < end; i++)
                {
                    ArrayPool<byte>.Shared.Return(buffers[i]);
                    (failed ??= []).Add(new BlockReadFailed(blocks[i].Index, blocks[i].Begin, ex.Message));
                }
            }
            first = end;
        }
        Sender.Tell(new BlocksRead(read, (IReadOnlyList<BlockReadFailed>?)failed ?? []));
    }

    private bool Follows(BlockAt previous, BlockAt next) =>
        _store.OffsetOf(previous.Index, previous.Begin) + previous.Length == _store.OffsetOf(next.Index, next.Begin);

    // Our IOException messages name the file already; the system's (disk full, permission) get what we were doing.
    private static T Fatal<T>(string doing, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var ours = ex.Message.StartsWith("cannot ", StringComparison.Ordinal) || ex.Message.StartsWith('\'');
            throw new StorageFailedException(ours ? ex.Message : $"{doing}: {ex.Message}", ex);
        }
    }
}
