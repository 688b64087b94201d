using System.Diagnostics;
using System.Security.Cryptography;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// One `actors web --tracker` node serves a .torrent we made and tracks its swarm; Transmission
/// seeds it and aria2 fetches the .torrent by URL and downloads from Transmission.
/// </summary>
public sealed class TransmissionInteropTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("actors-transmission-");
    private readonly List<Process> _started = [];

    [FactRequiringTools("transmission-cli", "aria2c")]
    public async Task Transmission_seeds_our_torrent_and_aria2_downloads_it_by_url_through_one_web_and_tracker_node()
    {
        var site = _dir.CreateSubdirectory("site").FullName;
        var seedDir = _dir.CreateSubdirectory("seed").FullName;
        var leechDir = _dir.CreateSubdirectory("leech").FullName;
        var home = _dir.CreateSubdirectory("transmission-home").FullName;
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 777);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "movie.bin"), content);
        var port = ActorsProcess.FreePort();

        using (var create = new ActorsProcess("torrent", "create", Path.Combine(seedDir, "movie.bin"),
                   "--tracker", $"http://127.0.0.1:{port}/announce", "-o", Path.Combine(site, "movie.torrent")))
            Assert.Equal(0, await create.WaitForExit(Timeout));

        using var node = new ActorsProcess("web", "--tracker", "--root", site, "--host", "127.0.0.1", "--port", port.ToString(), "--access-log", "off");
        await ActorsProcess.WaitForPort(port, Timeout);

        // Transmission keeps its state under HOME; a private one keeps runs apart.
        Start("transmission-cli", ["-w", seedDir, "-p", ActorsProcess.FreePort().ToString(), Path.Combine(site, "movie.torrent")],
            new Dictionary<string, string> { ["HOME"] = home });

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + Timeout;
        while (PeerLab.Seeders(await http.GetByteArrayAsync($"http://127.0.0.1:{port}/scrape")) < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "Transmission never announced itself as a seeder");
            await Task.Delay(250);
        }

        var leecher = Start("aria2c", [.. Aria2.Flags(Ports.Free()), "--seed-time=0", "--bt-tracker-interval=2",
            $"--dir={leechDir}", $"http://127.0.0.1:{port}/movie.torrent"]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await leecher.WaitForExitAsync(cts.Token);
        Assert.Equal(0, leecher.ExitCode);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(leechDir, "movie.bin"))));
    }

    private Process Start(string tool, string[] args, IDictionary<string, string>? environment = null)
    {
        var process = ToolProcess.Start(tool, args, _dir.FullName, environment);
        _started.Add(process);
        return process;
    }

    public void Dispose()
    {
        ToolProcess.StopAll(_started);
        try { _dir.Delete(recursive: true); } catch (IOException) { }
    }
}
