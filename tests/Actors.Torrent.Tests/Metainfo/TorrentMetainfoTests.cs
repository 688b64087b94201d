using System.Security.Cryptography;
using System.Text;
using Actors.Torrent.Bencode;
using Actors.Torrent.Metainfo;
using Xunit;

namespace Actors.Torrent.Tests.Metainfo;

public sealed class TorrentMetainfoTests
{
    private const int PieceLength = 16 * 1024;

    /// <summary>A valid single-file info dictionary (40000 bytes, 3 pieces) as editable entries.</summary>
    private static Dictionary<string, BValue> ValidInfo() => new()
    {
        ["name"] = BString.From("file.bin"),
        ["piece length"] = new BInteger(PieceLength),
        ["pieces"] = new BString(new byte[3 * 20]),
        ["length"] = new BInteger(40_000),
    };

    private static BList Files(params (long Length, string[] Path)[] files) =>
        new(files.Select(f => (BValue)new BDictionaryBuilder()
            .Add("length", f.Length)
            .Add("path", new BList(f.Path.Select(s => (BValue)BString.From(s)).ToArray()))
            .Build()).ToArray());

    private static byte[] Torrent(Dictionary<string, BValue> info, Action<BDictionaryBuilder>? root = null)
    {
        var builder = new BDictionaryBuilder()
            .Add("info", new BDictionary(info.Select(e => KeyValuePair.Create(BString.From(e.Key), e.Value))));
        root?.Invoke(builder);
        return BencodeEncoder.Encode(builder.Build());
    }

    private static byte[] TorrentWith(Action<Dictionary<string, BValue>> edit)
    {
        var info = ValidInfo();
        edit(info);
        return Torrent(info);
    }

    public static TheoryData<string, string> InvalidTorrents() => new()
    {
        { "not bencode", "not valid bencode" },
        { "trailing bytes", "not valid bencode" },
        { "top level is a list", "not a bencoded dictionary" },
        { "no info", "no 'info' dictionary" },
        { "info is a string", "'info' is not a dictionary" },
        { "no name", "no 'name'" },
        { "empty name", "name '' is empty" },
        { "name is ..", "name '..' is '..'" },
        { "name with slash", "contains '/'" },
        { "no piece length", "no 'piece length'" },
        { "zero piece length", "piece length 0 is not between" },
        { "negative piece length", "piece length -16384 is not between" },
        { "huge piece length", "piece length 134217728 is not between" },
        { "no pieces", "no 'pieces'" },
        { "v2 only", "v2 only" },
        { "pieces not multiple of 20", "not a multiple of 20" },
        { "too few pieces", "has 2 piece hashes but 40000 bytes" },
        { "too many pieces", "has 4 piece hashes but 40000 bytes" },
        { "negative length", "'length' is negative" },
        { "length is a string", "'length' is missing or not an integer" },
        { "zero length", "no content" },
        { "both length and files", "both 'length' and 'files'" },
        { "neither length nor files", "neither 'length' nor 'files'" },
        { "files empty", "not a non-empty list" },
        { "file entry not a dict", "file #0 is not a dictionary" },
        { "file without length", "file #0 'length' is missing" },
        { "file with negative length", "file #1 'length' is negative" },
        { "file without path", "file #0 has no 'path'" },
        { "file with empty path", "file #0 has an empty path" },
        { "path segment empty", "segment '' is empty" },
        { "path segment dot", "segment '.' is '.'" },
        { "path segment dotdot", "segment '..' is '..'" },
        { "path segment with slash", "segment 'a/b' contains" },
        { "path segment with backslash", "segment '..\\x' contains" },
        { "path segment with NUL", "segment 'a\\0b' contains" },
        { "path segment not a string", "segment #0 is not a string" },
        { "duplicate file", "lists the file 'd/x' twice" },
        { "file and directory clash", "'d' as both a file and a directory" },
        { "total length overflow", "overflows" },
    };

    private static byte[] InvalidTorrent(string name) => name switch
    {
        "not bencode" => "d4:info"u8.ToArray(),
        "trailing bytes" => [.. Torrent(ValidInfo()), (byte)'x'],
        "top level is a list" => "le"u8.ToArray(),
        "no info" => BencodeEncoder.Encode(new BDictionaryBuilder().Add("announce", "http://x").Build()),
        "info is a string" => BencodeEncoder.Encode(new BDictionaryBuilder().Add("info", "x").Build()),
        "no name" => TorrentWith(i => i.Remove("name")),
        "empty name" => TorrentWith(i => i["name"] = BString.From("")),
        "name is .." => TorrentWith(i => i["name"] = BString.From("..")),
        "name with slash" => TorrentWith(i => i["name"] = BString.From("a/b")),
        "no piece length" => TorrentWith(i => i.Remove("piece length")),
        "zero piece length" => TorrentWith(i => i["piece length"] = new BInteger(0)),
        "negative piece length" => TorrentWith(i => i["piece length"] = new BInteger(-PieceLength)),
        "huge piece length" => TorrentWith(i => i["piece length"] = new BInteger(128 * 1024 * 1024)),
        "no pieces" => TorrentWith(i => i.Remove("pieces")),
        "v2 only" => TorrentWith(i => { i.Remove("pieces"); i["file tree"] = BDictionary.Empty; }),
        "pieces not multiple of 20" => TorrentWith(i => i["pieces"] = new BString(new byte[59])),
        "too few pieces" => TorrentWith(i => i["pieces"] = new BString(new byte[40])),
        "too many pieces" => TorrentWith(i => i["pieces"] = new BString(new byte[80])),
        "negative length" => TorrentWith(i => i["length"] = new BInteger(-1)),
        "length is a string" => TorrentWith(i => i["length"] = BString.From("40000")),
        "zero length" => TorrentWith(i => { i["length"] = new BInteger(0); i["pieces"] = BString.Empty; }),
        "both length and files" => TorrentWith(i => i["files"] = Files((40_000, ["a"]))),
        "neither length nor files" => TorrentWith(i => i.Remove("length")),
        "files empty" => MultiFile(BList.Empty),
        "file entry not a dict" => MultiFile(new BList([new BInteger(40_000)])),
        "file without length" => MultiFile(new BList([new BDictionaryBuilder().Add("path", new BList([BString.From("a")])).Build()])),
        "file with negative length" => MultiFile(Files((40_001, ["a"]), (-1, ["b"]))),
        "file without path" => MultiFile(new BList([new BDictionaryBuilder().Add("length", 40_000).Build()])),
        "file with empty path" => MultiFile(Files((40_000, []))),
        "path segment empty" => MultiFile(Files((40_000, ["d", ""]))),
        "path segment dot" => MultiFile(Files((40_000, ["."]))),
        "path segment dotdot" => MultiFile(Files((40_000, ["..", "etc", "passwd"]))),
        "path segment with slash" => MultiFile(Files((40_000, ["a/b"]))),
        "path segment with backslash" => MultiFile(Files((40_000, ["..\\x"]))),
        "path segment with NUL" => MultiFile(Files((40_000, ["a\0b"]))),
        "path segment not a string" => MultiFile(new BList([new BDictionaryBuilder()
            .Add("length", 40_000).Add("path", new BList([new BInteger(1)])).Build()])),
        "duplicate file" => MultiFile(Files((20_000, ["d", "x"]), (20_000, ["d", "x"]))),
        "file and directory clash" => MultiFile(Files((20_000, ["d"]), (20_000, ["d", "x"]))),
        "total length overflow" => MultiFile(Files((long.MaxValue, ["a"]), (long.MaxValue, ["b"]))),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static byte[] MultiFile(BList files) => TorrentWith(i =>
    {
        i.Remove("length");
        i["files"] = files;
    });

    [Theory]
    [MemberData(nameof(InvalidTorrents))]
    public void Invalid_or_unsafe_torrents_are_rejected_with_a_clear_message(string torrent, string expected)
    {
        var error = Assert.Throws<MetainfoException>(() => TorrentMetainfo.Parse(InvalidTorrent(torrent)));
        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_valid_base_of_the_rejection_table_parses()
    {
        var torrent = TorrentMetainfo.Parse(Torrent(ValidInfo()));
        Assert.Equal(3, torrent.PieceCount);
        Assert.Equal(40_000 - 2 * PieceLength, torrent.PieceSize(2));
    }

    [Fact]
    public void Input_larger_than_32_MiB_is_rejected_before_decoding()
    {
        var error = Assert.Throws<MetainfoException>(() => TorrentMetainfo.Parse(new byte[TorrentMetainfo.MaxTorrentFileBytes + 1]));
        Assert.Contains("limit", error.Message);
    }

    [Fact]
    public void Info_hash_is_sha1_of_the_info_bytes_exactly_as_they_appear_in_the_file()
    {
        // Unusual but valid: unknown keys with binary values, nested values, negative integers,
        // and root keys on both sides of 'info'.
        var info = ValidInfo();
        info["x-binary"] = new BString(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray());
        info["x-nested"] = new BList([BDictionary.Empty, new BInteger(-5), new BList([BString.From("é")])]);
        info["private"] = new BInteger(0);
        var bytes = Torrent(info, root => root.Add("aaa", 1).Add("zzz", new BList([BString.From("after")])));

        // Locate the raw info value independently: it starts after "4:info" and ends where "3:zzz" starts.
        var start = bytes.AsSpan().IndexOf("4:info"u8) + 6;
        var end = bytes.AsSpan().IndexOf("3:zzz"u8);
        var expected = SHA1.HashData(bytes.AsSpan(start, end - start));

        var torrent = TorrentMetainfo.Parse(bytes);

        Assert.Equal(expected, torrent.InfoHash.ToArray());
        Assert.Equal(Convert.ToHexStringLower(expected), torrent.InfoHashHex);
        Assert.Equal(bytes.AsSpan(start, end - start).ToArray(), torrent.RawInfo.ToArray());
        Assert.False(torrent.IsPrivate);
        Assert.NotNull(torrent.Info.Get<BString>("x-binary"));
    }

    /// <summary>
    /// A hand-made torrent as old creators wrote them: keys in neither the root nor the info
    /// dictionary (nor a file entry) sorted. Returns the bytes and the raw info value's bounds.
    /// </summary>
    internal static (byte[] Bytes, int InfoStart, int InfoEnd) UnsortedTorrent(string announce = "http://tracker.example:6969/announce")
    {
        var pieces = Encoding.Latin1.GetString(new byte[3 * 20]);
        var info = "d4:name5:album12:piece lengthi16384e5:filesl"
            + "d4:pathl5:a.txte6:lengthi30000ee"
            + "d6:lengthi10000e4:pathl5:b.txtee"
            + "e6:pieces60:" + pieces + "e";
        var text = "d8:announce" + announce.Length + ":" + announce
            + "4:info" + info
            + "7:comment9:unsorted!10:created by6:hand  e";
        var bytes = Encoding.Latin1.GetBytes(text);
        var start = text.IndexOf("4:info", StringComparison.Ordinal) + 6;
        return (bytes, start, start + info.Length);
    }

    [Fact]
    public void A_torrent_with_unsorted_keys_is_read_and_its_info_hash_is_over_the_bytes_as_received()
    {
        var (bytes, start, end) = UnsortedTorrent();
        Assert.Throws<BencodeException>(() => BencodeDecoder.Decode(bytes)); // really not canonical

        var torrent = TorrentMetainfo.Parse(bytes);

        Assert.Equal(SHA1.HashData(bytes.AsSpan(start..end)), torrent.InfoHash.ToArray());
        Assert.Equal(bytes[start..end], torrent.RawInfo.ToArray());
        // The canonical re-encoding is different bytes, so hashing it would give another swarm.
        Assert.NotEqual(torrent.InfoHash.ToArray(), SHA1.HashData(BencodeEncoder.Encode(torrent.Info)));
        Assert.Equal("album", torrent.Name);
        Assert.Equal([["a.txt"], ["b.txt"]], torrent.Files.Select(f => f.PathSegments.ToArray()));
        Assert.Equal(40_000, torrent.TotalLength);
        Assert.Equal("http://tracker.example:6969/announce", torrent.Announce);
        Assert.Equal("unsorted!", torrent.Comment);
    }

    [Theory]
    [InlineData("d4:infod6:lengthi1e4:name1:x12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaa4:name1:yee")]
    [InlineData("d4:infod6:lengthi1e4:name1:x12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaae7:comment1:a4:infod6:lengthi1e4:name1:x12:piece lengthi1e6:pieces20:aaaaaaaaaaaaaaaaaaaaee")]
    public void A_torrent_with_a_duplicate_key_is_refused_since_readers_could_disagree_on_its_value(string torrent)
    {
        var error = Assert.Throws<MetainfoException>(() => TorrentMetainfo.Parse(Encoding.Latin1.GetBytes(torrent)));
        Assert.Contains("duplicate dictionary key", error.Message);
    }

    [Fact]
    public void Optional_root_fields_are_read_and_sloppy_announce_list_entries_are_dropped()
    {
        var bytes = Torrent(ValidInfo(), root => root
            .Add("announce", "http://a/announce")
            .Add("announce-list", new BList([
                new BList([BString.From("http://t1/announce"), BString.From("udp://t1b:80")]),
                new BList([]),
                BString.From("not a tier"),
                new BList([new BInteger(3), BString.From("http://t2/announce")]),
            ]))
            .Add("comment", "hello")
            .Add("created by", "someone")
            .Add("creation date", 1_700_000_000));

        var torrent = TorrentMetainfo.Parse(bytes);

        Assert.Equal("http://a/announce", torrent.Announce);
        Assert.Equal(2, torrent.AnnounceList.Count);
        Assert.Equal(["http://t1/announce", "udp://t1b:80"], torrent.AnnounceList[0]);
        Assert.Equal(["http://t2/announce"], torrent.AnnounceList[1]);
        Assert.Equal("hello", torrent.Comment);
        Assert.Equal("someone", torrent.CreatedBy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), torrent.CreationDate);
    }

    [Fact]
    public void Missing_optional_fields_are_null_or_empty()
    {
        var torrent = TorrentMetainfo.Parse(Torrent(ValidInfo()));
        Assert.Null(torrent.Announce);
        Assert.Empty(torrent.AnnounceList);
        Assert.Empty(torrent.TrackerTiers);
        Assert.Null(torrent.Comment);
        Assert.Null(torrent.CreatedBy);
        Assert.Null(torrent.CreationDate);
        Assert.False(torrent.IsPrivate);
    }

    [Fact]
    public void Utf8_name_and_path_keys_take_precedence()
    {
        var info = ValidInfo();
        info.Remove("length");
        info["name"] = new BString(new byte[] { 0xE9 }); // Latin-1 'é', not UTF-8
        info["name.utf-8"] = BString.From("é");
        info["files"] = new BList([new BDictionaryBuilder()
            .Add("length", 40_000)
            .Add("path", new BList([new BString(new byte[] { 0xFC })]))
            .Add("path.utf-8", new BList([BString.From("ü")]))
            .Build()]);

        var torrent = TorrentMetainfo.Parse(Torrent(info));

        Assert.Equal("é", torrent.Name);
        Assert.Equal(["ü"], Assert.Single(torrent.Files).PathSegments);
    }

    [Fact]
    public void Piece_hash_and_size_reject_indexes_out_of_range()
    {
        var torrent = TorrentMetainfo.Parse(Torrent(ValidInfo()));
        Assert.Throws<ArgumentOutOfRangeException>(() => torrent.PieceHash(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => torrent.PieceSize(-1));
    }

    [Fact]
    public void Load_reads_a_torrent_file_from_disk()
    {
        using var temp = new TempDirectory();
        var path = temp.WriteFile("x.torrent", Torrent(ValidInfo()));
        Assert.Equal("file.bin", TorrentMetainfo.Load(path).Name);
    }

    [Fact]
    public void Description_shows_name_size_pieces_files_hash_and_trackers()
    {
        var info = ValidInfo();
        info.Remove("length");
        info["name"] = BString.From("album");
        info["files"] = Files((30_000, ["cd1", "01.flac"]), (10_000, ["cover.jpg"]));
        var torrent = TorrentMetainfo.Parse(Torrent(info, root => root.Add("announce", "http://t/announce")));

        var text = TorrentDescription.Describe(torrent);

        Assert.Contains("Name:         album", text);
        Assert.Contains($"Info-hash:    {torrent.InfoHashHex}", text);
        Assert.Contains("Total size:   39.06 KiB (40000 bytes)", text);
        Assert.Contains("Piece length: 16 KiB", text);
        Assert.Contains("Pieces:       3", text);
        Assert.Contains("tier 1: http://t/announce", text);
        Assert.Contains("Files (2):", text);
        Assert.Contains("album/cd1/01.flac (29.3 KiB)", text);
        Assert.Contains("album/cover.jpg (9.77 KiB)", text);
    }

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1 KiB")]
    [InlineData(1536L, "1.5 KiB")]
    [InlineData(16L * 1024 * 1024, "16 MiB")]
    public void Sizes_are_formatted_in_binary_units(long bytes, string expected)
    {
        Assert.Equal(expected, TorrentDescription.FormatSize(bytes));
    }
}
