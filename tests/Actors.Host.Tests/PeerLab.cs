using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Actors.Torrent.Bencode;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// A BitTorrent swarm on 127.0.0.1 made of real processes: one <c>actors web --tracker</c> node
/// serving <c>/x.torrent</c> (made by <c>actors torrent create</c>) and tracking it, plus whatever
/// peers a test starts (<c>actors peer</c>, aria2c). Disposing kills every process it started and
/// deletes its temp dir.
/// </summary>
public sealed partial class PeerLab : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("actors-peer-");
    private readonly List<ActorsProcess> _actors = [];
    private readonly List<Process> _tools = [];

    /// <summary>For tests that start aria2: <c>[FactRequiringTools(PeerLab.Aria2)]</c> (skipped visibly without it, failing in CI).</summary>
    public const string Aria2 = "aria2c";

    /// <summary>Never <c>if (!Aria2Available) return;</c> (green without testing): use the attribute.</summary>
    public static bool Aria2Available => Tools.IsInstalled(Aria2);

    public int Port { get; } = ActorsProcess.FreePort();
    public string TorrentUrl => $"http://127.0.0.1:{Port}/x.torrent";
    public string TorrentFile => Path.Combine(Dir("site"), "x.torrent");
    public byte[] Content { get; private set; } = [];
    public const string FileName = "x.bin";

    public string Dir(string name) => Directory.CreateDirectory(Path.Combine(_dir.FullName, name)).FullName;

    /// <summary>Writes random content into <c>seed/</c>, makes its .torrent and starts the web + tracker node.</summary>
    public async Task Start(int length, int pieceLength = 32 * 1024)
    {
        Content = RandomNumberGenerator.GetBytes(length);
        await File.WriteAllBytesAsync(Path.Combine(Dir("seed"), FileName), Content);
        using (var create = new ActorsProcess("torrent", "create", Path.Combine(Dir("seed"), FileName), "--tracker",
                   $"http://127.0.0.1:{Port}/announce", "--piece-length", pieceLength.ToString(), "-o", TorrentFile))
            Assert.Equal(0, await create.WaitForExit(Timeout));
        Actors("web", "--tracker", "--root", Dir("site"), "--host", "127.0.0.1", "--port", Port.ToString(), "--access-log", "off");
        await ActorsProcess.WaitForPort(Port, Timeout);
    }

    public ActorsProcess Actors(params string[] args)
    {
        var process = new ActorsProcess(args);
        _actors.Add(process);
        return process;
    }

    /// <summary><c>actors peer seed</c> of a copy of the content in its own folder; returns once it has verified it.</summary>
    public async Task<ActorsProcess> OurSeeder(string name, params string[] options)
    {
        var dir = Dir(name);
        File.Copy(Path.Combine(Dir("seed"), FileName), Path.Combine(dir, FileName), overwrite: true);
        var seeder = Actors(["peer", "seed", TorrentFile, "--data", dir, "--host", "127.0.0.1", .. options]);
        await seeder.WaitForLine(l => l.Contains("complete and verified"), Timeout);
        return seeder;
    }

    public static string[] Aria2Flags => [.. TestSupport.Aria2.Flags(Ports.Free()), "--allow-overwrite=true", "--bt-tracker-interval=2"];

    public Process Aria2Seeder(params string[] options) =>
        Tool("aria2c", [.. Aria2Flags, .. options, "--seed-ratio=0.0", "--check-integrity=true", "--bt-seed-unverified=true",
            $"--dir={Dir("seed")}", TorrentFile]);

    /// <summary>aria2 fetches the .torrent by URL from the web node, then downloads; exits when done.</summary>
    public Process Aria2Leecher(string outDir) =>
        Tool("aria2c", [.. Aria2Flags, "--seed-time=0", $"--dir={outDir}", TorrentUrl]);

    public Process Tool(string tool, string[] args)
    {
        var process = ToolProcess.Start(tool, args, _dir.FullName);
        _tools.Add(process);
        return process;
    }

    /// <summary>Waits until the tracker counts <paramref name="seeders"/> complete peers in the swarm.</summary>
    public async Task AwaitSeeders(int seeders)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var scrape = await http.GetByteArrayAsync($"http://127.0.0.1:{Port}/scrape");
            if (Seeders(scrape) >= seeders) return;
            Assert.True(DateTime.UtcNow < deadline, $"the tracker never saw {seeders} seeders: {BencodeDecoder.Decode(scrape)}");
            await Task.Delay(250);
        }
    }

    public void AssertSameContent(string path) =>
        Assert.Equal(SHA256.HashData(Content), SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>The most seeders (<c>complete</c>) of any swarm in a bencoded scrape answer (BEP 48).</summary>
    public static long Seeders(byte[] scrape)
    {
        var files = ((BDictionary)BencodeDecoder.Decode(scrape)).GetDictionary("files");
        return files is null ? 0 : files.Entries.Select(e => e.Value).OfType<BDictionary>().Select(f => f.GetInteger("complete") ?? 0).DefaultIfEmpty(0).Max();
    }

    /// <summary>The "downloaded N bytes" of <c>actors peer get</c>'s final summary line.</summary>
    public static long DownloadedBytes(string summary) => long.Parse(Downloaded().Match(summary).Groups[1].Value);

    /// <summary>The "N/M pieces" of a progress line, or -1.</summary>
    public static int PiecesIn(string line) => Pieces().Match(line) is { Success: true } m ? int.Parse(m.Groups[1].Value) : -1;

    [GeneratedRegex(@"downloaded (\d+) bytes")]
    private static partial Regex Downloaded();
    [GeneratedRegex(@"^(\d+)/\d+ pieces")]
    private static partial Regex Pieces();

    public void Dispose()
    {
        ToolProcess.StopAll(_tools);
        foreach (var a in _actors) a.Dispose();
        try { _dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
