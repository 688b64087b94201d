using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Tests.Metainfo;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

public sealed class PieceStoreTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Three files of odd sizes so pieces of 16 KiB span file boundaries (one file is empty).</summary>
    private TorrentMetainfo MultiFile(out Dictionary<string, byte[]> contents)
    {
        contents = new()
        {
            ["album/a.bin"] = TempDirectory.RandomBytes(1, 10_000),
            ["album/empty.txt"] = [],
            ["album/sub/b.bin"] = TempDirectory.RandomBytes(2, 40_000),
            ["album/sub/c.bin"] = TempDirectory.RandomBytes(3, 5),
        };
        foreach (var (path, bytes) in contents) _temp.WriteFile("src/" + path, bytes);
        var torrent = TorrentCreator.Create(_temp.Combine("src", "album"), new TorrentCreateOptions { PieceLength = 16384 });
        return TorrentMetainfo.Parse(torrent);
    }

    [Fact]
    public void Pieces_spanning_files_are_written_to_the_right_files()
    {
        var torrent = MultiFile(out var contents);
        var source = PieceStore.Open(torrent, _temp.Combine("src"));
        Assert.True(source.CheckExisting().IsComplete);

        using (var target = PieceStore.Open(torrent, _temp.Combine("dst")))
        {
            Assert.True(target.CheckExisting().IsEmpty);
            // Pre-allocated at full length.
            Assert.Equal(40_000, new FileInfo(_temp.Combine("dst", "album", "sub", "b.bin")).Length);
            for (var i = torrent.PieceCount - 1; i >= 0; i--)
            {
                var piece = source.ReadBlock(i, 0, torrent.PieceSize(i));
                Assert.True(target.Matches(i, piece));
                target.WritePiece(i, piece);
            }
            Assert.True(target.CheckExisting().IsComplete);
        }
        source.Dispose();
        foreach (var (path, bytes) in contents)
            Assert.Equal(bytes, File.ReadAllBytes(_temp.Combine(["dst", .. path.Split('/')])));
    }

    [Fact]
    public void Blocks_read_across_a_file_boundary()
    {
        var torrent = MultiFile(out var contents);
        using var store = PieceStore.Open(torrent, _temp.Combine("src"));
        var block = store.ReadBlock(0, 9_990, 20);
        Assert.Equal(contents["album/a.bin"][9_990..], block[..10]);
        Assert.Equal(contents["album/sub/b.bin"][..10], block[10..]);
    }

    [Fact]
    public void Resume_finds_exactly_the_pieces_already_on_disk()
    {
        var torrent = MultiFile(out _);
        using (var source = PieceStore.Open(torrent, _temp.Combine("src")))
        using (var target = PieceStore.Open(torrent, _temp.Combine("dst")))
        {
            target.WritePiece(1, source.ReadBlock(1, 0, torrent.PieceSize(1)));
            target.WritePiece(3, source.ReadBlock(3, 0, torrent.PieceSize(3)));
            // A corrupt copy of piece 2 must not count.
            var bad = source.ReadBlock(2, 0, torrent.PieceSize(2));
            bad[100] ^= 1;
            target.WritePiece(2, bad);
        }
        using var reopened = PieceStore.Open(torrent, _temp.Combine("dst"));
        Assert.Equal([1, 3], reopened.CheckExisting().ToArray());
    }

    [Fact]
    public void Wrong_data_does_not_match_its_hash()
    {
        var torrent = MultiFile(out _);
        using var store = PieceStore.Open(torrent, _temp.Combine("src"));
        var piece = store.ReadBlock(0, 0, torrent.PieceSize(0));
        Assert.True(store.Matches(0, piece));
        piece[0] ^= 0xFF;
        Assert.False(store.Matches(0, piece));
        Assert.False(store.Matches(0, piece.AsSpan(1)));
    }

    [Fact]
    public void Reads_outside_the_torrent_are_refused()
    {
        var torrent = MultiFile(out _);
        using var store = PieceStore.Open(torrent, _temp.Combine("src"));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.ReadBlock(torrent.PieceCount - 1, 0, 16384));
    }

    [Fact]
    public void Consecutive_blocks_read_together_match_the_files_within_one_file_and_across_files()
    {
        var torrent = MultiFile(out var contents);
        var all = contents["album/a.bin"].Concat(contents["album/sub/b.bin"]).Concat(contents["album/sub/c.bin"]).ToArray();
        using var store = PieceStore.Open(torrent, _temp.Combine("src"));
        // (piece, begin, block lengths): inside b.bin (one scatter read); from a.bin into b.bin
        // (buffer by buffer); the last bytes of the torrent, ending in c.bin.
        foreach (var (index, begin, lengths) in new[]
                 {
                     (1, 0, new[] { 4096, 4096, 1000 }),
                     (0, 8_000, new[] { 1_000, 2_000, 3_000 }),
                     (torrent.PieceCount - 1, 0, new[] { torrent.PieceSize(torrent.PieceCount - 1) - 10, 10 }),
                 })
        {
            var buffers = lengths.Select(n => new Memory<byte>(new byte[n])).ToArray();
            store.ReadBlocks(index, begin, buffers);
            var offset = (long)index * torrent.PieceLength + begin;
            foreach (var buffer in buffers)
            {
                Assert.Equal(all.AsSpan((int)offset, buffer.Length).ToArray(), buffer.ToArray());
                offset += buffer.Length;
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            store.ReadBlocks(torrent.PieceCount - 1, 0, [new byte[16384], new byte[16384]]));
    }
}
