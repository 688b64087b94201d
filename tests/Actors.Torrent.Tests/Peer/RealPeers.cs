using System.Diagnostics;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Starts opentracker and aria2c as child processes for interop tests; kills them on dispose.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RealPeers : IDisposable
{
    private readonly List<ProcessRunner> _processes = new();

    /// <summary>Everything the processes printed, for failure messages.</summary>
    public string Log => string.Join('\n', _processes.Select(p => $"--- {p.Name}\n{p.Output}"));

    /// <summary>The programs a test using this class needs: <c>[FactRequiringTools(RealPeers.Aria2, RealPeers.Opentracker)]</c>.</summary>
    public const string Aria2 = "aria2c", Opentracker = "opentracker";

    /// <summary>Whether both are installed. Never <c>if (!Available) return;</c>: mark the test [FactRequiringTools] instead.</summary>
    public static bool Available => Tools.IsInstalled(Aria2) && Tools.IsInstalled(Opentracker);

    public static int FreePort() => Ports.Free();

    /// <summary>opentracker on 127.0.0.1 serving only <paramref name="infoHashHex"/>; returns its announce URL.</summary>
    public string StartOpentracker(TempDirectory temp, string infoHashHex)
    {
        var port = FreePort();
        var root = temp.Combine("opentracker");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "whitelist.txt"), infoHashHex + "\n");
        // The tracker chroots there and drops to nobody, who must be able to read it.
        foreach (var dir in new[] { temp.Path, root })
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(root, "whitelist.txt"), (UnixFileMode)0b110_100_100);
        Start("opentracker", "-i", "127.0.0.1", "-p", $"{port}", "-P", $"{port}", "-d", root, "-u", "nobody",
            "-w", "/whitelist.txt", "-A", "127.0.0.1");
        Ports.WaitForListenerSync(port, TimeSpan.FromSeconds(10));
        return $"http://127.0.0.1:{port}/announce";
    }

    public static string[] Aria2Flags(int listenPort) => [.. TestSupport.Aria2.Flags(listenPort), "--allow-overwrite=true"];

    public Process StartAria2Seeder(string torrentFile, string dataDir, int listenPort)
    {
        var process = Start("aria2c", [.. Aria2Flags(listenPort), "--seed-ratio=0.0", "--check-integrity=true",
            "--bt-seed-unverified=true", "-d", dataDir, torrentFile]);
        Ports.WaitForListenerSync(listenPort, TimeSpan.FromSeconds(10));
        return process;
    }

    public Process StartAria2Leecher(string torrentFile, string outDir, int listenPort) =>
        Start("aria2c", [.. Aria2Flags(listenPort), "--seed-time=0", "-d", outDir, torrentFile]);

    public Process Start(string tool, params string[] arguments)
    {
        var runner = new ProcessRunner(tool, arguments);
        _processes.Add(runner);
        return runner.Process;
    }

    public void Dispose()
    {
        foreach (var process in _processes) process.Dispose();
    }
}
