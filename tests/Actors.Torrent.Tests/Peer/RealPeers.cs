using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Tests.Metainfo;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Starts opentracker and aria2c as child processes for interop tests; kills them on dispose.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RealPeers : IDisposable
{
    private readonly List<Process> _processes = new();

    /// <summary>Everything the processes printed, for failure messages.</summary>
    public System.Text.StringBuilder Log { get; } = new();

    public static bool Available => ExternalTool.IsInstalled("aria2c") && ExternalTool.IsInstalled("opentracker");

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

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
        WaitForPort(port);
        return $"http://127.0.0.1:{port}/announce";
    }

    public static string[] Aria2Flags(int listenPort) =>
    [
        "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        $"--listen-port={listenPort}", "--console-log-level=warn", "--summary-interval=0", "--allow-overwrite=true",
        "--file-allocation=none",
    ];

    public Process StartAria2Seeder(string torrentFile, string dataDir, int listenPort)
    {
        var process = Start("aria2c", [.. Aria2Flags(listenPort), "--seed-ratio=0.0", "--check-integrity=true",
            "--bt-seed-unverified=true", "-d", dataDir, torrentFile]);
        WaitForPort(listenPort);
        return process;
    }

    public Process StartAria2Leecher(string torrentFile, string outDir, int listenPort) =>
        Start("aria2c", [.. Aria2Flags(listenPort), "--seed-time=0", "-d", outDir, torrentFile]);

    public Process Start(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {tool}");
        process.OutputDataReceived += (_, e) => { lock (Log) Log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (Log) Log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private static void WaitForPort(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new TimeoutException($"nothing listens on {port}");
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
    }
}
