using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Tests.Metainfo;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// Nothing we did not write is destroyed: what <see cref="PieceStore"/> does with a file that is
/// already where the torrent's file goes (the rule is in src/Actors.Torrent/Peer/README.md).
/// </summary>
public sealed class ExistingFileTests : IDisposable
{
    private const int PieceLength = 16384;
    private readonly TempDirectory _temp = new();
    private readonly byte[] _content = TempDirectory.RandomBytes(7, 5 * PieceLength + 1000);
    private readonly TorrentMetainfo _torrent;

    public ExistingFileTests()
    {
        var source = _temp.WriteFile("src/movie.bin", _content);
        _torrent = TorrentMetainfo.Parse(TorrentCreator.Create(source, new TorrentCreateOptions { PieceLength = PieceLength }));
    }

    public void Dispose() => _temp.Dispose();

    private string Existing(byte[] bytes) => _temp.WriteFile("dst/movie.bin", bytes);

    [Fact]
    public void A_longer_file_is_refused_by_name_and_left_untouched()
    {
        var longer = _content.Concat(new byte[] { 1, 2, 3 }).ToArray();
        var path = Existing(longer);
        var ex = Assert.Throws<IOException>(() => PieceStore.Open(_torrent, _temp.Combine("dst")));
        Assert.Contains(path, ex.Message);
        Assert.Contains("longer", ex.Message);
        Assert.Equal(longer, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_same_length_file_of_other_data_is_refused_by_name_and_left_untouched()
    {
        var other = TempDirectory.RandomBytes(99, _content.Length);
        var path = Existing(other);
        using var store = PieceStore.Open(_torrent, _temp.Combine("dst"));
        var ex = Assert.Throws<IOException>(() => store.CheckExisting());
        Assert.Contains(path, ex.Message);
        Assert.Throws<InvalidOperationException>(() => store.WritePiece(0, _content.AsSpan(0, PieceLength)));
        store.Dispose();
        Assert.Equal(other, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_shorter_file_of_other_data_is_refused_and_left_untouched()
    {
        var other = TempDirectory.RandomBytes(98, 3 * PieceLength);
        var path = Existing(other);
        using (var store = PieceStore.Open(_torrent, _temp.Combine("dst")))
            Assert.Contains(path, Assert.Throws<IOException>(() => store.CheckExisting()).Message);
        Assert.Equal(other, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_shorter_prefix_is_a_partial_download_verified_and_grown_without_losing_a_byte()
    {
        var prefix = _content[..(2 * PieceLength + 500)]; // two whole pieces and part of the third
        var path = Existing(prefix);
        using var store = PieceStore.Open(_torrent, _temp.Combine("dst"));
        Assert.Equal([0, 1], store.CheckExisting().ToArray());
        Assert.Equal(_content.Length, new FileInfo(path).Length);
        Assert.Equal(prefix, File.ReadAllBytes(path)[..prefix.Length]);
        // The rest downloads over it: the file ends up the torrent's content.
        for (var i = 2; i < _torrent.PieceCount; i++)
            store.WritePiece(i, _content.AsSpan(i * PieceLength, _torrent.PieceSize(i)));
        store.Dispose();
        Assert.Equal(_content, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_same_length_download_with_a_damaged_piece_resumes()
    {
        var damaged = (byte[])_content.Clone();
        damaged[PieceLength + 10] ^= 0xFF;
        Existing(damaged);
        using var store = PieceStore.Open(_torrent, _temp.Combine("dst"));
        Assert.Equal(_torrent.PieceCount - 1, store.CheckExisting().Count);
    }

    [Fact]
    public void A_file_of_zeros_is_an_empty_partial_download()
    {
        Existing(new byte[_content.Length - 100]);
        using var store = PieceStore.Open(_torrent, _temp.Combine("dst"));
        Assert.True(store.CheckExisting().IsEmpty);
    }

    [Fact]
    public void A_folder_where_the_file_goes_is_refused_by_name()
    {
        Directory.CreateDirectory(_temp.Combine("dst", "movie.bin", "inside"));
        var ex = Assert.Throws<IOException>(() => PieceStore.Open(_torrent, _temp.Combine("dst")));
        Assert.Contains(_temp.Combine("dst", "movie.bin"), ex.Message);
        Assert.True(Directory.Exists(_temp.Combine("dst", "movie.bin", "inside")));
    }

    [Fact]
    public void A_file_deleted_under_the_store_is_reported_by_name()
    {
        using var store = PieceStore.Open(_torrent, _temp.Combine("dst"));
        store.CheckExisting();
        Assert.Null(store.MissingFile());
        var path = _temp.Combine("dst", "movie.bin");
        File.Delete(path);
        Assert.Equal(path, store.MissingFile());
        var ex = Assert.Throws<IOException>(() => store.WritePiece(0, _content.AsSpan(0, PieceLength)));
        Assert.Contains(path, ex.Message);
    }
}
