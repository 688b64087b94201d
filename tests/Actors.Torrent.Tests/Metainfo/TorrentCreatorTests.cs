using System.Security.Cryptography;
using Actors.Torrent.Metainfo;
using Xunit;

namespace Actors.Torrent.Tests.Metainfo;

public sealed class TorrentCreatorTests : IDisposable
{
    private static readonly DateTimeOffset Created = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Single_file_torrent_has_its_name_length_trackers_and_options()
    {
        var content = TempDirectory.RandomBytes(1, 100_000);
        var path = _temp.WriteFile("movie.bin", content);
        var options = new TorrentCreateOptions
        {
            Trackers = ["http://tracker.example/announce"],
            PieceLength = 32 * 1024,
            IsPrivate = true,
            Comment = "a comment",
            CreationDate = Created,
        };

        var torrent = TorrentMetainfo.Parse(TorrentCreator.Create(path, options));

        Assert.Equal("movie.bin", torrent.Name);
        Assert.False(torrent.IsMultiFile);
        Assert.Equal(100_000, torrent.TotalLength);
        var file = Assert.Single(torrent.Files);
        Assert.Equal(["movie.bin"], file.PathSegments);
        Assert.Equal((100_000L, 0L), (file.Length, file.Offset));
        Assert.Equal(32 * 1024, torrent.PieceLength);
        Assert.Equal(4, torrent.PieceCount);
        Assert.Equal(100_000 - 3 * 32 * 1024, torrent.PieceSize(3));
        Assert.Equal("http://tracker.example/announce", torrent.Announce);
        Assert.Empty(torrent.AnnounceList);
        Assert.True(torrent.IsPrivate);
        Assert.Equal("a comment", torrent.Comment);
        Assert.Equal("Actors", torrent.CreatedBy);
        Assert.Equal(Created, torrent.CreationDate);
        AssertPieceHashesMatch(torrent, content);
    }

    [Fact]
    public void Multi_file_torrent_lists_files_in_ordinal_path_order_with_offsets()
    {
        var a = TempDirectory.RandomBytes(2, 10_000);
        var b = TempDirectory.RandomBytes(3, 30_000);
        var c = TempDirectory.RandomBytes(4, 5);
        var z = TempDirectory.RandomBytes(5, 20_000);
        _temp.WriteFile("share/b/inner.dat", b);
        _temp.WriteFile("share/a.txt", a);
        _temp.WriteFile("share/B.txt", c);
        _temp.WriteFile("share/empty", []);
        _temp.WriteFile("share/z/y/x.bin", z);
        var options = new TorrentCreateOptions { PieceLength = 16 * 1024, CreationDate = null };

        var torrent = TorrentMetainfo.Parse(TorrentCreator.Create(_temp.Combine("share"), options));

        Assert.True(torrent.IsMultiFile);
        Assert.Equal("share", torrent.Name);
        Assert.Equal(["B.txt", "a.txt", "b/inner.dat", "empty", "z/y/x.bin"], torrent.Files.Select(f => f.RelativePath));
        Assert.Equal([0L, 5, 10_005, 40_005, 40_005], torrent.Files.Select(f => f.Offset));
        Assert.Equal(60_005, torrent.TotalLength);
        Assert.Null(torrent.CreationDate);
        Assert.Null(torrent.Announce);
        // 16 KiB pieces over 5 + 10000 + 30000 + 0 + 20000 bytes: pieces span file boundaries.
        AssertPieceHashesMatch(torrent, [.. c, .. a, .. b, .. z]);
    }

    [Fact]
    public void Several_trackers_become_announce_and_one_tier_each_in_announce_list()
    {
        var path = _temp.WriteFile("f", [1, 2, 3]);
        var options = new TorrentCreateOptions { Trackers = ["http://one/announce", "http://two/announce"] };

        var torrent = TorrentMetainfo.Parse(TorrentCreator.Create(path, options));

        Assert.Equal("http://one/announce", torrent.Announce);
        Assert.Equal(2, torrent.AnnounceList.Count);
        Assert.Equal(["http://one/announce"], torrent.AnnounceList[0]);
        Assert.Equal(["http://two/announce"], torrent.AnnounceList[1]);
        Assert.Equal(torrent.AnnounceList, torrent.TrackerTiers);
    }

    [Theory]
    [InlineData(1L, 16 * 1024)]
    [InlineData(2000L * 16 * 1024, 16 * 1024)]
    [InlineData(2000L * 16 * 1024 + 1, 32 * 1024)]
    [InlineData(700L * 1024 * 1024, 512 * 1024)]
    [InlineData(4L * 1024 * 1024 * 1024, 4 * 1024 * 1024)]
    [InlineData(1L << 50, 16 * 1024 * 1024)]
    public void Default_piece_length_is_a_power_of_two_giving_at_most_about_2000_pieces(long total, int expected)
    {
        Assert.Equal(expected, TorrentCreator.ChoosePieceLength(total));
    }

    [Fact]
    public void Default_piece_length_gives_between_1000_and_2000_pieces_for_mid_sized_content()
    {
        var random = new Random(11);
        for (var i = 0; i < 1000; i++)
        {
            var total = random.NextInt64(2000L * 16 * 1024, 2000L * 16 * 1024 * 1024);
            var pieceLength = TorrentCreator.ChoosePieceLength(total);
            var pieces = (total + pieceLength - 1) / pieceLength;
            Assert.InRange(pieces, 1000, 2000);
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(8 * 1024)]
    [InlineData(48 * 1024)]
    [InlineData(128 * 1024 * 1024)]
    public void Piece_length_that_is_not_a_power_of_two_of_at_least_16_KiB_is_refused(int pieceLength)
    {
        var path = _temp.WriteFile("f", [1]);
        Assert.Throws<ArgumentException>(() => TorrentCreator.Create(path, new TorrentCreateOptions { PieceLength = pieceLength }));
    }

    [Fact]
    public void Content_with_no_bytes_is_refused()
    {
        _temp.WriteFile("empty-dir/empty-file", []);
        Assert.Throws<ArgumentException>(() => TorrentCreator.Create(_temp.Combine("empty-dir"), new TorrentCreateOptions()));
    }

    [Fact]
    public void Missing_path_is_reported()
    {
        Assert.Throws<FileNotFoundException>(() => TorrentCreator.Create(_temp.Combine("nope"), new TorrentCreateOptions()));
    }

    [Fact]
    public void File_names_a_torrent_cannot_carry_are_refused()
    {
        _temp.WriteFile("dir/back\\slash", [1]);
        var error = Assert.Throws<ArgumentException>(() => TorrentCreator.Create(_temp.Combine("dir"), new TorrentCreateOptions()));
        Assert.Contains("back\\slash", error.Message);
    }

    [Fact]
    public void Symbolic_links_leaving_the_directory_are_not_followed_but_links_inside_are()
    {
        var outside = _temp.WriteFile("outside/secret", [9, 9, 9]);
        _temp.WriteFile("share/real", [1, 2]);
        File.CreateSymbolicLink(_temp.Combine("share", "leak"), outside);
        File.CreateSymbolicLink(_temp.Combine("share", "alias"), _temp.Combine("share", "real"));
        Directory.CreateSymbolicLink(_temp.Combine("share", "loop"), _temp.Combine("share"));

        var torrent = TorrentMetainfo.Parse(TorrentCreator.Create(_temp.Combine("share"), new TorrentCreateOptions()));

        Assert.Equal(["alias", "real"], torrent.Files.Select(f => f.RelativePath));
        AssertPieceHashesMatch(torrent, [1, 2, 1, 2]);
    }

    [Fact]
    public void Created_torrent_is_canonical_bencode_and_reproducible_without_a_date()
    {
        var path = _temp.WriteFile("f", TempDirectory.RandomBytes(6, 50_000));
        var options = new TorrentCreateOptions { Trackers = ["http://t/a"], CreationDate = null };
        Assert.Equal(TorrentCreator.Create(path, options), TorrentCreator.Create(path, options));
    }

    internal static void AssertPieceHashesMatch(TorrentMetainfo torrent, byte[] content)
    {
        Assert.Equal(content.LongLength, torrent.TotalLength);
        Assert.Equal((content.Length + torrent.PieceLength - 1) / torrent.PieceLength, torrent.PieceCount);
        for (var i = 0; i < torrent.PieceCount; i++)
        {
            var piece = content.AsSpan(i * torrent.PieceLength, torrent.PieceSize(i));
            Assert.Equal(SHA1.HashData(piece), torrent.PieceHash(i).ToArray());
        }
    }
}
