using Actors.Net.Scheduling;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Tests.Metainfo;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// A process out of descriptors cannot open a torrent's files yet: storage tries again, keeping the
/// torrent's requests, instead of failing the torrent (which ended `actors peer get --count 40`
/// under 256 descriptors with exit 1 once in a suite run: "cannot create ... Too many open files").
/// Any other failure to open stays fatal.
/// </summary>
public sealed class StorageOpenRetryTests() : TestKit(SwarmFixture.Config)
{
    private readonly TempDirectory _temp = new();

    protected override void AfterAll()
    {
        _temp.Dispose();
        base.AfterAll();
    }

    /// <summary>EMFILE as .NET reports it on Unix: an IOException whose HResult is the errno (24).</summary>
    private static IOException OutOfDescriptors(string path) => new($"Too many open files : '{path}'", 24);

    [Fact]
    public void Files_that_cannot_be_opened_for_want_of_descriptors_are_opened_later_and_requests_wait_for_them()
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "later.bin", 100_000, 16 * 1024);
        var attempts = 0;
        PieceStore Open(TorrentMetainfo t, string directory)
        {
            // PieceStore.Open wraps what the system said in its own IOException naming the file.
            if (Interlocked.Increment(ref attempts) <= 2)
                throw new IOException($"cannot create '{directory}/later.bin': Too many open files", OutOfDescriptors(directory + "/later.bin"));
            return PieceStore.Open(t, directory);
        }
        var ticks = CreateTestProbe();
        var storage = Sys.ActorOf(StorageActor.Props(torrent, _temp.Combine("leech"), ticks.Ref, open: Open));
        Watch(storage);

        storage.Tell(StorageActor.CheckPieces.Instance);
        // Retried after 1 s and then 2 s: the request is answered once the files are open.
        var checkedPieces = ExpectMsg<StorageActor.PiecesChecked>(TimeSpan.FromSeconds(15));
        Assert.True(checkedPieces.Have.IsEmpty);
        Assert.Equal(3, Volatile.Read(ref attempts));
        ticks.ExpectMsg<TickWheel.Subscribe>(); // the file check starts once the files are open
        Assert.True(File.Exists(_temp.Combine("leech", "later.bin")));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200)); // not stopped
    }

    [Fact]
    public void Any_other_failure_to_open_the_files_stops_the_storage()
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "never.bin", 50_000, 16 * 1024);
        var attempts = 0;
        PieceStore Open(TorrentMetainfo t, string directory)
        {
            Interlocked.Increment(ref attempts);
            throw new IOException($"cannot create '{directory}/never.bin': No space left on device", new IOException("No space left on device", 28));
        }
        var storage = Sys.ActorOf(StorageActor.Props(torrent, _temp.Combine("full"), CreateTestProbe().Ref, open: Open));
        Watch(storage);
        ExpectTerminated(storage, TimeSpan.FromSeconds(10));
        Assert.Equal(1, Volatile.Read(ref attempts));
    }

    [Fact]
    public void Out_of_descriptors_is_told_by_the_errno_anywhere_in_the_chain()
    {
        Assert.True(StorageActor.IsOutOfDescriptors(OutOfDescriptors("/x")));
        Assert.True(StorageActor.IsOutOfDescriptors(new IOException("Too many open files in system", 23)));
        Assert.True(StorageActor.IsOutOfDescriptors(new StorageActor.StorageFailedException("cannot create", new IOException("cannot create", OutOfDescriptors("/x")))));
        Assert.False(StorageActor.IsOutOfDescriptors(new IOException("No space left on device", 28)));
        Assert.False(StorageActor.IsOutOfDescriptors(new UnauthorizedAccessException("Access to the path is denied")));
    }
}
