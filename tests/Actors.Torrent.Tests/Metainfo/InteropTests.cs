using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Actors.Torrent.Bencode;
using Actors.Torrent.Metainfo;
using Xunit;

namespace Actors.Torrent.Tests.Metainfo;

/// <summary>
/// Interoperability with real torrent tools: mktorrent and transmission-create make torrents we
/// parse; transmission-show reads the torrents we make. Both sides must agree on the info-hash.
/// </summary>
public sealed partial class InteropTests : IDisposable
{
    private const string Tracker = "http://tracker.example:6969/announce";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [FactRequiringTools("mktorrent", "transmission-show")]
    public void Single_file_torrent_made_by_mktorrent_parses_with_the_same_info_hash()
    {
        var content = _temp.WriteFile("data/song.ogg", TempDirectory.RandomBytes(21, 300_001));
        _temp.Run("mktorrent", "-a", Tracker, "-l", "15", "-o", "out.torrent", content);
        AssertAgreesWithTransmissionShow("out.torrent", expectedName: "song.ogg", expectedFiles: 1);
    }

    [FactRequiringTools("mktorrent", "transmission-show")]
    public void Directory_torrent_made_by_mktorrent_parses_with_the_same_info_hash()
    {
        var directory = WriteSampleDirectory();
        _temp.Run("mktorrent", "-a", Tracker, "-l", "15", "-o", "out.torrent", directory);
        AssertAgreesWithTransmissionShow("out.torrent", expectedName: "album", expectedFiles: 4);
    }

    [FactRequiringTools("transmission-create", "transmission-show")]
    public void Single_file_torrent_made_by_transmission_create_parses_with_the_same_info_hash()
    {
        var content = _temp.WriteFile("data/song.ogg", TempDirectory.RandomBytes(22, 300_001));
        _temp.Run("transmission-create", "-t", Tracker, "-s", "32", "-o", "out.torrent", content);
        AssertAgreesWithTransmissionShow("out.torrent", expectedName: "song.ogg", expectedFiles: 1);
    }

    [FactRequiringTools("transmission-create", "transmission-show")]
    public void Directory_torrent_made_by_transmission_create_parses_with_the_same_info_hash()
    {
        var directory = WriteSampleDirectory();
        _temp.Run("transmission-create", "-t", Tracker, "-s", "32", "-o", "out.torrent", directory);
        AssertAgreesWithTransmissionShow("out.torrent", expectedName: "album", expectedFiles: 4);
    }

    [FactRequiringTools("transmission-show")]
    public void Single_file_torrent_made_by_us_is_read_by_transmission_show()
    {
        var content = _temp.WriteFile("data/song.ogg", TempDirectory.RandomBytes(23, 300_001));
        var bytes = TorrentCreator.Create(content, new TorrentCreateOptions { Trackers = [Tracker], PieceLength = 32 * 1024 });
        File.WriteAllBytes(_temp.Combine("ours.torrent"), bytes);
        AssertAgreesWithTransmissionShow("ours.torrent", expectedName: "song.ogg", expectedFiles: 1);
    }

    [FactRequiringTools("transmission-show")]
    public void Directory_torrent_made_by_us_is_read_by_transmission_show()
    {
        var directory = WriteSampleDirectory();
        var options = new TorrentCreateOptions
        {
            Trackers = [Tracker, "http://backup.example/announce"],
            PieceLength = 32 * 1024,
            IsPrivate = true,
            Comment = "made by Actors",
        };
        File.WriteAllBytes(_temp.Combine("ours.torrent"), TorrentCreator.Create(directory, options));

        var show = AssertAgreesWithTransmissionShow("ours.torrent", expectedName: "album", expectedFiles: 4);

        Assert.Contains("Private torrent", show);
        Assert.Contains("made by Actors", show);
        Assert.Contains("http://backup.example/announce", show);
        Assert.Contains("album/cd1/01 intro.flac", show);
    }

    /// <summary>
    /// An unsorted torrent is where clients disagree: transmission-show 3.00 and aria2 1.36 hash
    /// the info dictionary re-encoded in canonical (sorted) form, while we hash the bytes as they
    /// are in the file, as libtorrent and Transmission 4 do (and as BEP 52 spells out). So such a
    /// torrent puts us and aria2 in different swarms; this test records that fact, and fails if
    /// either side changes.
    /// </summary>
    [FactRequiringTools("transmission-show", "aria2c")]
    public void Torrent_with_unsorted_keys_is_hashed_as_received_while_transmission_3_and_aria2_hash_it_re_encoded()
    {
        var (bytes, start, end) = TorrentMetainfoTests.UnsortedTorrent(Tracker);
        File.WriteAllBytes(_temp.Combine("unsorted.torrent"), bytes);
        var torrent = TorrentMetainfo.Load(_temp.Combine("unsorted.torrent"));
        var canonical = Convert.ToHexStringLower(SHA1.HashData(BencodeEncoder.Encode(torrent.Info)));

        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(bytes.AsSpan(start..end))), torrent.InfoHashHex);
        Assert.NotEqual(canonical, torrent.InfoHashHex);
        var show = _temp.Run("transmission-show", "unsorted.torrent");
        Assert.Equal(canonical, Field(show, "Hash"));
        Assert.Equal(torrent.Name, Field(show, "Name"));
        var aria2 = _temp.Run("aria2c", "-S", "unsorted.torrent");
        Assert.Equal(canonical, Field(aria2, "Info Hash"));
    }

    /// <summary>Four files with sizes that make 32 KiB pieces straddle file boundaries.</summary>
    private string WriteSampleDirectory()
    {
        _temp.WriteFile("album/cd1/01 intro.flac", TempDirectory.RandomBytes(31, 50_000));
        _temp.WriteFile("album/cd1/02 song.flac", TempDirectory.RandomBytes(32, 70_123));
        _temp.WriteFile("album/cover.jpg", TempDirectory.RandomBytes(33, 9_999));
        _temp.WriteFile("album/notes.txt", TempDirectory.RandomBytes(34, 17));
        return _temp.Combine("album");
    }

    /// <summary>
    /// Parses the torrent ourselves, checks it against transmission-show's view and checks every
    /// piece hash against SHA-1 of the content on disk. Returns transmission-show's output.
    /// </summary>
    private string AssertAgreesWithTransmissionShow(string torrentFile, string expectedName, int expectedFiles)
    {
        var torrent = TorrentMetainfo.Load(_temp.Combine(torrentFile));
        var show = _temp.Run("transmission-show", torrentFile);

        Assert.Equal(Field(show, "Hash"), torrent.InfoHashHex);
        Assert.Equal(Field(show, "Name"), torrent.Name);
        Assert.Equal(expectedName, torrent.Name);
        Assert.Equal(int.Parse(Field(show, "Piece Count"), CultureInfo.InvariantCulture), torrent.PieceCount);
        AssertSameSize(Field(show, "Total Size"), torrent.TotalLength);
        Assert.Equal(expectedFiles, torrent.Files.Count);
        Assert.Contains(Tracker, show);
        Assert.Equal(Tracker, torrent.Announce);

        var contentRoot = Path.GetDirectoryName(torrent.IsMultiFile
            ? Directory.GetDirectories(_temp.Path, torrent.Name, SearchOption.AllDirectories).Single()
            : Directory.GetFiles(_temp.Path, torrent.Name, SearchOption.AllDirectories).Single())!;
        var content = torrent.Files
            .SelectMany(f => File.ReadAllBytes(Path.Combine([contentRoot, .. torrent.IsMultiFile ? [torrent.Name] : Array.Empty<string>(), .. f.PathSegments])))
            .ToArray();
        TorrentCreatorTests.AssertPieceHashesMatch(torrent, content);
        return show;
    }

    private static string Field(string output, string name)
    {
        var match = Regex.Match(output, $@"^\s*{Regex.Escape(name)}:\s*(.+?)\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"transmission-show printed no '{name}:' line:\n{output}");
        return match.Groups[1].Value;
    }

    /// <summary>transmission-show rounds sizes ("300.0 kB"): compare to within 0.1 %.</summary>
    private static void AssertSameSize(string shown, long bytes)
    {
        var match = SizePattern().Match(shown);
        Assert.True(match.Success, $"Unrecognised size '{shown}'.");
        var number = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var factor = match.Groups[2].Value switch
        {
            "B" or "bytes" => 1d,
            "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "KiB" => 1024d,
            "MiB" => 1024d * 1024,
            "GiB" => 1024d * 1024 * 1024,
            var unit => throw new InvalidOperationException($"Unknown unit '{unit}'."),
        };
        var shownBytes = number * factor;
        Assert.InRange(bytes, shownBytes * 0.999 - 1, shownBytes * 1.001 + 1);
    }

    [GeneratedRegex(@"^([0-9.]+)\s*(\w+)")]
    private static partial Regex SizePattern();
}

internal static class TempDirectoryToolExtensions
{
    public static string Run(this TempDirectory temp, string tool, params string[] arguments) =>
        ExternalTool.Run(tool, temp.Path, arguments);
}
