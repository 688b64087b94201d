using System.Globalization;
using Actors.Host.Cli;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Connections;
using Actors.Net.Configuration;
using Actors.Web.Client;
using Akka.Actor;
using Actors.Host.Hosting;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors peer get URL-or-FILE --out DIR</c> and <c>actors peer seed FILE --data DIR</c>.
/// A peer is a plain ActorSystem, not a cluster member: it speaks BitTorrent and HTTP to the
/// outside world only, so it starts in milliseconds, needs no seed node, and thousands of
/// them (--count) cost no cluster gossip.
/// </summary>
public sealed class PeerCommand : IRoleCommand
{
    public string Name => "peer";
    public string Summary => "BitTorrent peer: get URL-or-FILE --out DIR [--seed], or seed FILE --data DIR.";

    private static readonly IReadOnlyList<CliOption> Options =
    [
        new("--out", null, "download directory (get)", "DIR"),
        new("--data", null, "directory holding the content (seed)", "DIR"),
        new("--seed", null, "keep seeding after the download completes", IsFlag: true),
        new("--port", null, "listening port (0 picks a free one; with --count, ports PORT..PORT+N-1)", "PORT"),
        new("--host", null, "address to listen on", "ADDR"),
        new("--max-up", null, "upload cap per peer, bytes/s (K, M suffixes)", "RATE"),
        new("--max-down", null, "download cap per peer, bytes/s (K, M suffixes)", "RATE"),
        new("--max-peers", "actors.peer.max-peers", "connections per torrent (fewer when the process's budget is shared by many)", "N"),
        new("--max-connections", "actors.peer.max-connections", "sockets for all peers of this process (0: from the descriptor limit)", "N"),
        new("--max-half-open", "actors.peer.max-half-open", "outgoing connects not yet answered, per process", "N"),
        new("--connect-rate", "actors.peer.connects-per-second", "new outgoing connects per second, per process", "N"),
        new(CommonOptions.Config, null, "a HOCON file that overrides config/*.conf", "FILE"),
        new("--count", null, "run N independent peers in this process (DIR/peer-I each)", "N"),
        .. PeerDht.Options,
    ];

    // The peer's own lines (progress, summary) are its output; Akka speaks only when something is wrong.
    private static Config AkkaConfig(Config loaded) => ConfigLoader.ForLocalSystem(
        ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(loaded));

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse(args, Options);
        if (parsed.HelpRequested || parsed.Positional.Count == 0)
        {
            StandardOutput.Writer.WriteLine("Usage: actors peer get URL-or-FILE --out DIR [--seed] [options]\n       actors peer seed FILE.torrent --data DIR [options]\n");
            foreach (var o in Options) StandardOutput.Writer.WriteLine($"  {o.Name,-12} {(o.IsFlag ? "" : o.ValueName),-8} {o.Help}");
            return parsed.HelpRequested ? 0 : 2;
        }
        var verb = parsed.Positional[0];
        if (verb is not ("get" or "seed") || parsed.Positional.Count != 2)
            throw new UsageException("expected 'get URL-or-FILE' or 'seed FILE.torrent'");
        var seedAfter = verb == "seed" || parsed.Has("--seed");
        var directory = verb == "get"
            ? parsed.Value("--out") ?? throw new UsageException("get needs --out DIR")
            : parsed.Value("--data") ?? throw new UsageException("seed needs --data DIR");
        var count = Int(parsed, "--count", 1);
        var port = Int(parsed, "--port", 0);

        // config/peer.conf (actors.peer: connection budget; the peer's own akka.io sizes) < --config < options.
        var config = ConfigLoader.Load(["peer"], parsed.ToHocon(Options), parsed.Value(CommonOptions.Config));
        var limits = ConnectionLimits.FromConfig(config);
        var maxPeers = new SettingsReader(config, "actors.peer").Int("max-peers", 1, 10_000);
        var system = ActorSystem.Create("peer", AkkaConfig(config));
        NodeLogger.NodeName = "peer";
        using var cancel = new CancellationTokenSource();
        // Ctrl-C and SIGTERM (run-cluster's stop) end the run cleanly: peers announce "stopped".
        void Stop(System.Runtime.InteropServices.PosixSignalContext context) { context.Cancel = true; cancel.Cancel(); }
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
        try
        {
            // One HTTP client for the process: the .torrent download and every peer's announces.
            var http = system.ActorOf(HttpClientActor.Props(), "http");
            // One connection budget for the process: its --count peers share the sockets.
            var budget = new ConnectionBudget(limits);
            var torrent = await LoadTorrent(parsed.Positional[1], http);
            var ids = Enumerable.Range(0, count).Select(_ => TorrentSettings.NewPeerId()).ToArray();
            // Each torrent under a guardian: a port that is taken or storage that fails ends the process (RoleFailure).
            var peers = Enumerable.Range(0, count).Select(i => system.ActorOf(RoleGuardian.Props(TorrentActor.Props(new TorrentSettings(torrent,
                count == 1 ? directory : Path.Combine(directory, $"peer-{i}"))
            {
                PeerId = ids[i],
                Host = parsed.Value("--host") ?? "0.0.0.0",
                Port = port == 0 ? 0 : port + i,
                MaxUploadRate = Rate(parsed.Value("--max-up")),
                MaxDownloadRate = Rate(parsed.Value("--max-down")),
                MaxPeers = maxPeers,
            }, http, budget), "torrent"), $"torrent-{i}")).ToArray();
            _ = PeerDht.Start(system, args, parsed, torrent.InfoHash, peers, directory, cancel.Token); // only with --dht-bootstrap
            var ok = await ShowProgress(torrent, peers, ids, seedAfter, system, cancel.Token);
            if (system.WhenTerminated.IsCompleted) return 1; // the role failed; its line is printed
            await Task.WhenAll(peers.Select(p => p.Ask<TorrentActor.Stopped>(TorrentActor.Stop.Instance, TimeSpan.FromSeconds(5))
                .ContinueWith(_ => 0)));
            return ok ? 0 : 1;
        }
        finally
        {
            await system.Terminate();
        }
    }

    private static async Task<TorrentMetainfo> LoadTorrent(string source, IActorRef http)
    {
        try
        {
            if (Uri.TryCreate(source, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            {
                var timeout = TimeSpan.FromSeconds(30);
                var answer = await http.Ask<object>(new HttpGet(url, timeout), timeout + TimeSpan.FromSeconds(5));
                return answer switch
                {
                    HttpGetSucceeded { Response.Status: 200 } ok => TorrentMetainfo.Parse(ok.Response.Body),
                    HttpGetSucceeded other => throw new UsageException($"cannot load '{source}': the server answered {other.Response.Status}"),
                    HttpGetFailed failed => throw new UsageException($"cannot load '{source}': {failed.Reason}"),
                    _ => throw new UsageException($"cannot load '{source}'"),
                };
            }
            return TorrentMetainfo.Load(source);
        }
        catch (Exception ex) when (ex is MetainfoException or IOException or AskTimeoutException)
        {
            throw new UsageException($"cannot load '{source}': {ex.Message}");
        }
    }

    /// <returns>true when every peer completed (or seeding was interrupted by Ctrl-C).</returns>
    private static async Task<bool> ShowProgress(TorrentMetainfo torrent, IActorRef[] peers, byte[][] ids, bool seedAfter, ActorSystem system, CancellationToken cancel)
    {
        var terminal = !Console.IsOutputRedirected;
        var lastPlain = DateTime.MinValue;
        bool listening = false, reported = false;
        var started = Environment.TickCount64;
        while (true)
        {
            // Wake for the next report, Ctrl-C, or the role failing (the system then shuts itself down).
            await Task.WhenAny(Task.Delay(terminal ? 250 : 1000, cancel), system.WhenTerminated);
            if (system.WhenTerminated.IsCompleted) return false;
            if (cancel.IsCancellationRequested)
            {
                if (terminal) StandardOutput.Writer.WriteLine();
                return seedAfter;
            }
            var asked = Task.WhenAll(peers.Select(p => p.Ask<TorrentProgress>(TorrentActor.GetProgress.Instance, TimeSpan.FromSeconds(5))));
            await Task.WhenAny(asked, system.WhenTerminated);
            if (system.WhenTerminated.IsCompleted) return false;
            TorrentProgress[] all;
            try
            {
                all = await asked;
            }
            catch (AskTimeoutException)
            {
                continue; // still checking what is on disk, or thousands of busy peers: ask again next round
            }
            if (!listening && all.All(p => p.ListenPort > 0))
            {
                listening = true;
                if (terminal) StandardOutput.Writer.WriteLine();
                for (var i = 0; i < all.Length; i++)
                    StandardOutput.Writer.WriteLine($"peer {i}: listening on port {all[i].ListenPort}, id {System.Text.Encoding.ASCII.GetString(ids[i])}");
            }
            var have = all.Sum(p => p.PiecesHave);
            var total = all.Sum(p => p.PieceCount);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{have}/{total} pieces  ↓ {Human(all.Sum(p => p.DownloadRate))}/s ({Human(all.Sum(p => p.Downloaded))})  ↑ {Human(all.Sum(p => p.UploadRate))}/s ({Human(all.Sum(p => p.Uploaded))})  peers {all.Sum(p => p.Peers)}");
            var complete = all.All(p => p.Complete);
            if (terminal)
            {
                const int width = 30;
                var filled = total == 0 ? 0 : (int)((long)have * width / total);
                StandardOutput.Writer.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {line}   ");
            }
            else if (complete && !reported || DateTime.UtcNow - lastPlain > TimeSpan.FromSeconds(2))
            {
                lastPlain = DateTime.UtcNow;
                StandardOutput.Writer.WriteLine(line);
            }
            if (complete && !reported)
            {
                reported = true;
                if (terminal) StandardOutput.Writer.WriteLine();
                StandardOutput.Writer.WriteLine($"{torrent.Name}: complete and verified ({torrent.PieceCount} pieces, {torrent.TotalLength} bytes); "
                    + $"downloaded {all.Sum(p => p.Downloaded)} bytes (from seeders {all.Sum(p => p.DownloadedFromSeeds)}, "
                    + $"from other peers {all.Sum(p => p.DownloadedFromPeers)}), uploaded {all.Sum(p => p.Uploaded)} bytes; "
                    + string.Create(CultureInfo.InvariantCulture, $"{Environment.TickCount64 - started} ms, cpu {System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds:F0} ms"));
                if (!seedAfter) return true;
            }
        }
    }

    private static string Human(double bytes) => bytes switch
    {
        >= 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 20):F1} MiB"),
        >= 1 << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1 << 10):F0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes:F0} B"),
    };

    private static int Int(ParsedArguments parsed, string name, int fallback)
    {
        var text = parsed.Value(name);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value : throw new UsageException($"{name} needs a whole number, not '{text}'");
    }

    /// <summary>"500K", "2M", "1.5MB", "1000" (bytes per second); null or "0" means unlimited.</summary>
    public static long Rate(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return 0;
        var t = text.Trim().ToUpperInvariant().TrimEnd('B', '/', 'S');
        var multiplier = t.EndsWith('K') ? 1024 : t.EndsWith('M') ? 1024 * 1024 : t.EndsWith('G') ? 1024 * 1024 * 1024 : 1;
        if (multiplier > 1) t = t[..^1];
        return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? (long)(value * multiplier)
            : throw new UsageException($"'{text}' is not a rate (e.g. 500K, 2M)");
    }
}
