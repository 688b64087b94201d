using System.Globalization;
using Actors.Host.Cli;
using Actors.Lab.Agent;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Connections;
using Actors.Torrent.Peer.Magnet;
using Actors.Net.Configuration;
using Actors.Net.Scheduling;
using Actors.Web.Client;
using Akka.Actor;
using Actors.Host.Hosting;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors peer get URL-or-FILE-or-MAGNET --out DIR</c> and <c>actors peer seed FILE --data DIR</c>.
/// A peer is a plain ActorSystem, not a cluster member: it speaks BitTorrent and HTTP to the
/// outside world only, so it starts in milliseconds, needs no seed node, and thousands of
/// them (--count) cost no cluster gossip.
/// </summary>
public sealed class PeerCommand : IRoleCommand
{
    public string Name => "peer";
    public string Summary => "BitTorrent peer: get URL-or-FILE-or-MAGNET --out DIR [--seed], or seed FILE --data DIR.";

    private static readonly IReadOnlyList<CliOption> PeerOptions =
    [
        new("--out", null, "download directory (get)", "DIR"),
        new("--data", null, "directory holding the content (seed)", "DIR"),
        new("--seed", null, "keep seeding after the download completes", IsFlag: true),
        new("--port", null, "listening port (0 picks a free one; with --count, ports PORT..PORT+N-1)", "PORT"),
        new("--host", null, "address to listen on", "ADDR"),
        new("--announce-port", null, "port to announce instead of the listening one (a port forward, a Lab link proxy)", "PORT"),
        new("--max-up", null, "upload cap per peer, bytes/s (K, M suffixes)", "RATE"),
        new("--max-down", null, "download cap per peer, bytes/s (K, M suffixes)", "RATE"),
        new("--super-seed", "actors.peer.super-seed", "seed by BEP 16 super-seeding: reveal pieces one at a time, each to one peer first", IsFlag: true),
        new("--max-peers", "actors.peer.max-peers", "connections per torrent (fewer when the process's budget is shared by many)", "N"),
        new("--max-connections", "actors.peer.max-connections", "sockets for all peers of this process (0: from the descriptor limit)", "N"),
        new("--max-half-open", "actors.peer.max-half-open", "outgoing connects not yet answered, per process", "N"),
        new("--connect-rate", "actors.peer.connects-per-second", "new outgoing connects per second, per process", "N"),
        new(CommonOptions.Config, null, "a HOCON file that overrides config/*.conf", "FILE"),
        new("--count", null, "run N independent peers in this process (DIR/peer-I each)", "N"),
        new("--save-metadata", null, "magnet: also write the fetched torrent as DIR/HASH.torrent (aria2's --bt-save-metadata)", IsFlag: true),
        new("--max-metadata-size", "actors.peer.max-metadata-size", "magnet: largest info dictionary accepted from peers, bytes", "BYTES"),
        new("--metadata-timeout", "actors.peer.metadata-timeout", "magnet: give up when no peer sent the metadata in this time", "DURATION"),
        new("--progress", null, "append every second to FILE a JSON line: pieces held, bytes uploaded and connections per peer, copies of each piece among this process's peers (actors lab swarm and the benchmark read it)", "FILE"),
        new("--lab", null, "report progress and exchanges to this lab (default: $ACTORS_LAB_URL, then .cluster/lab.url when present; off: none)", "URL"),
        .. PeerDht.Options,
    ];

    public IReadOnlyList<CliOption> Options => [];

    // get and seed take the same options; the ones that belong to one of them say so.
    public IReadOnlyList<CliCommand> Subcommands =>
    [
        new("get", "Download a torrent (from an http(s) URL, a .torrent file or a magnet link) into --out DIR; --seed keeps seeding after.", PeerOptions, args => Run("get", args))
        {
            Arguments = [new("URL-or-FILE", "the .torrent: an http(s) URL, a file, or a magnet link \"magnet:?xt=urn:btih:...\"")],
        },
        new("seed", "Seed a torrent whose content is in --data DIR (verified first).", PeerOptions, args => Run("seed", args))
        {
            Arguments = [new("FILE", "the .torrent file (or an http(s) URL)")],
        },
    ];

    public Task<int> RunAsync(ParsedArguments args) => CliCommand.NeedsSubcommand("get or seed")(args);

    private static async Task<int> Run(string verb, ParsedArguments parsed)
    {
        var source = parsed.Argument(verb == "get" ? "URL-or-FILE" : "FILE");
        var seedAfter = verb == "seed" || parsed.Has("--seed");
        var directory = verb == "get"
            ? parsed.Value("--out") ?? throw new UsageException("get needs --out DIR")
            : parsed.Value("--data") ?? throw new UsageException("seed needs --data DIR");
        var count = Int(parsed, "--count", 1);
        var port = Int(parsed, "--port", 0);
        var announcePort = Int(parsed, "--announce-port", 0);

        // config/peer.conf (actors.peer: connection budget; the peer's own akka.io sizes) < --config < options.
        var config = ConfigLoader.Load(["peer"], parsed.ToHocon(), parsed.Value(CommonOptions.Config));
        var limits = ConnectionLimits.FromConfig(config);
        var read = new SettingsReader(config, "actors.peer");
        var maxPeers = read.Int("max-peers", 1, 10_000);
        var superSeed = read.Bool("super-seed");
        // A notice on stderr (stdout carries only the documented peer lines): what the seeder will do.
        if (superSeed) Console.Error.WriteLine("actors peer: super-seeding (BEP 16) when complete at start: each peer is shown pieces one at a time");
        var maxMetadata = (int)read.Bytes("max-metadata-size", 16 * 1024, 256L * 1024 * 1024);
        var metadataTimeout = read.Duration("metadata-timeout", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        var magnet = verb == "get" && MagnetLink.LooksLikeMagnet(source) ? ParseMagnet(source) : null;
        // A magnet's metadata phase announces and tells peers the port the torrent will listen on: fix it now.
        if (magnet is not null && port == 0) port = FreePort();
        // A notice on stderr, as for super-seeding: why this process's connections cost what they do.
        if (ManyPeers.Runs(config, count))
            Console.Error.WriteLine($"actors peer: {count} peers in one process: {ManyPeers.Frame(config) / 1024} KiB Akka.IO frames and compact mailboxes " +
                                    "(memory per connection before the CPU of bulk sends; actors.peer.many-peers)");
        var system = ActorSystem.Create("peer", PeerSystemConfig.For(config, count));
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
            // One tick wheel for the process: every torrent's and connection's periodic ticks.
            var ticks = system.ActorOf(TickWheel.Props(TorrentActor.TickSlot), "ticks");
            // One connection budget for the process: its --count peers share the sockets.
            var budget = new ConnectionBudget(limits);
            var ids = Enumerable.Range(0, count).Select(_ => TorrentSettings.NewPeerId()).ToArray();
            IReadOnlyList<System.Net.IPEndPoint> initialPeers = [];
            // With --dht-bootstrap: the process's DHT node, a peer source beside the trackers (a magnet's too).
            var dht = PeerDht.Start(system, parsed, directory);
            // BEP 5 port message: the torrents (and the magnet phase's connections) advertise the node's UDP
            // port and feed it the nodes peers advertise.
            var torrentDht = dht is null ? null : await dht.ForTorrents();
            if (dht is not null && torrentDht is null) return 1; // the DHT port was taken: its line is printed
            TorrentMetainfo torrent;
            if (magnet is null)
            {
                torrent = await LoadTorrent(source, http);
            }
            else
            {
                var resolved = await ResolveMagnet(system, magnet, new MagnetSettings(ids[0])
                {
                    ListenPort = port,
                    MaxMetadataSize = maxMetadata,
                    Dht = torrentDht,
                }, http, budget, dht, metadataTimeout, cancel.Token);
                if (resolved is null) return 1;
                torrent = resolved.Torrent;
                initialPeers = resolved.Peers;
                if (parsed.Has("--save-metadata"))
                {
                    Directory.CreateDirectory(directory);
                    var file = Path.Combine(directory, torrent.InfoHashHex + ".torrent");
                    await File.WriteAllBytesAsync(file, resolved.TorrentFile);
                    StandardOutput.Writer.WriteLine($"saved {file}");
                }
            }
            // Each torrent under a guardian: a port that is taken or storage that fails ends the process (RoleFailure).
            var peers = Enumerable.Range(0, count).Select(i => system.ActorOf(RoleGuardian.Props(TorrentActor.Props(new TorrentSettings(torrent,
                count == 1 ? directory : Path.Combine(directory, $"peer-{i}"))
            {
                PeerId = ids[i],
                Host = parsed.Value("--host") ?? "0.0.0.0",
                Port = port == 0 ? 0 : port + i,
                AnnouncePort = announcePort == 0 ? 0 : announcePort + i,
                MaxUploadRate = Rate(parsed.Value("--max-up")),
                MaxDownloadRate = Rate(parsed.Value("--max-down")),
                MaxPeers = maxPeers,
                SuperSeed = superSeed,
                InitialPeers = initialPeers,
                Dht = torrentDht,
            }, http, budget, ticks), "torrent"), $"torrent-{i}")).ToArray();
            // Figures, completion and who-uploads-to-whom for the Lab's swarm view (when a lab is found).
            var reporter = system.ActorOf(ProcessReporter.Props(parsed.Value("--lab"), $"peer-{Environment.ProcessId}", ["peer"]), "lab-reporter");
            if (dht is not null) _ = dht.FeedTorrents(torrent.InfoHash, peers, cancel.Token);
            var board = system.ActorOf(PeerProgressBoard.Props(peers), "progress");
            var labOption = parsed.Value("--lab");
            var ok = await ShowProgress(torrent, peers, board, ids, seedAfter, system, reporter, () => LabTarget.Resolve(labOption) is not null,
                cancel.Token, parsed.Value("--progress"));
            await reporter.Ask<ProcessReporter.Flushed>(ProcessReporter.Flush.Instance, TimeSpan.FromSeconds(3)).ContinueWith(_ => { });
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

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        listener.Start();
        var free = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return free;
    }

    private static MagnetLink ParseMagnet(string text)
    {
        try
        {
            return MagnetLink.Parse(text);
        }
        catch (MetainfoException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>
    /// BEP 9: the info dictionary from the swarm's peers, found through the link's trackers and
    /// x.pe peers and, with <paramref name="dht"/>, the DHT. Null (after one line on stderr) when
    /// none sent it in time.
    /// </summary>
    private static async Task<MetadataResolved?> ResolveMagnet(ActorSystem system, MagnetLink magnet, MagnetSettings settings,
        IActorRef http, ConnectionBudget budget, PeerDht? dht, TimeSpan timeout, CancellationToken cancel)
    {
        StandardOutput.Writer.WriteLine($"magnet {magnet.InfoHashHex}{(magnet.DisplayName is { } dn ? $" ({dn})" : "")}: fetching metadata from peers"
            + (dht is null ? "" : " (and the DHT)"));
        var fetcher = system.ActorOf(MetadataFetcher.Props(magnet, settings, http, budget), "metadata");
        // Announced at once with the port the torrent will listen on, as aria2 and libtorrent do.
        var fromDht = dht?.FindPeers(magnet.InfoHash, settings.ListenPort, fetcher);
        var asked = fetcher.Ask<object>(FetchMetadata.Instance, Timeout.InfiniteTimeSpan);
        await Task.WhenAny(asked, Task.Delay(timeout, cancel).ContinueWith(_ => { }, TaskScheduler.Default));
        if (!asked.IsCompleted) fetcher.Tell(MetadataFetcher.GiveUp.Instance);
        var answer = await asked;
        if (fromDht is not null) system.Stop(fromDht); // the torrent gets its own source
        system.Stop(fetcher);
        switch (answer)
        {
            case MetadataResolved resolved:
                StandardOutput.Writer.WriteLine($"magnet {magnet.InfoHashHex}: metadata verified ({resolved.Torrent.RawInfo.Length} bytes, "
                    + $"{resolved.Torrent.Name}, {resolved.Torrent.TotalLength} bytes); {resolved.Peers.Count} peer(s) known"
                    + (resolved.BadPeers > 0 ? $", {resolved.BadPeers} sent bad metadata" : ""));
                return resolved;
            case MetadataFailed failed:
                Console.Error.WriteLine($"actors peer: magnet {magnet.InfoHashHex}: {failed.Reason}");
                return null;
            default:
                return null;
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
    private static async Task<bool> ShowProgress(TorrentMetainfo torrent, IActorRef[] peers, IActorRef board, byte[][] ids, bool seedAfter,
        ActorSystem system, IActorRef reporter, Func<bool> labPresent, CancellationToken cancel, string? progressFile = null)
    {
        var lastReport = DateTime.MinValue;
        using var progress = progressFile is null ? null : new StreamWriter(progressFile, append: true) { AutoFlush = true };
        var terminal = !Console.IsOutputRedirected;
        var lastPlain = DateTime.MinValue;
        bool listening = false, reported = false;
        var started = Environment.TickCount64;
        // Every torrent says when it completes: the summary and the exit follow at once, not at the next poll (up to 1 s later).
        Task allComplete = Task.WhenAll(peers.Select(p => p.Ask<TorrentActor.TorrentCompleted>(TorrentActor.NotifyWhenComplete.Instance, Timeout.InfiniteTimeSpan)));
        var never = new TaskCompletionSource().Task;
        while (true)
        {
            // Wake for the next report, completion, Ctrl-C, or the role failing (the system then shuts itself down).
            await Task.WhenAny(Task.Delay(terminal ? 250 : 1000, cancel), system.WhenTerminated, reported ? never : allComplete);
            if (system.WhenTerminated.IsCompleted) return false;
            if (cancel.IsCancellationRequested)
            {
                if (terminal) StandardOutput.Writer.WriteLine();
                return seedAfter;
            }
            // One question for the whole process: the torrents push their progress to the board when it changes.
            var asked = board.Ask<PeerProgressBoard.All>(PeerProgressBoard.GetAll.Instance, TimeSpan.FromSeconds(5));
            await Task.WhenAny(asked, system.WhenTerminated);
            if (system.WhenTerminated.IsCompleted) return false;
            TorrentProgress[] all;
            try
            {
                var known = (await asked).Progress;
                if (known.Any(p => p is null)) continue; // still checking what is on disk: ask again next round
                all = known.Select(p => p!).ToArray();
            }
            catch (AskTimeoutException)
            {
                continue; // a busy process: ask again next round
            }
            if (!listening && all.All(p => p.ListenPort > 0))
            {
                listening = true;
                if (terminal) StandardOutput.Writer.WriteLine();
                for (var i = 0; i < all.Length; i++)
                    StandardOutput.Writer.WriteLine($"peer {i}: listening on port {all[i].ListenPort}, id {System.Text.Encoding.ASCII.GetString(ids[i])}");
            }
            // Pieces held, bytes uploaded and connections per peer, and copies per piece in this process: completion and
            // piece availability for the Lab's swarm plots, and what each uploaded (a seeder's timeline in benchmarks).
            progress?.WriteLine(Actors.Lab.Experiments.SwarmProgress.Line(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), torrent.PieceCount,
                [.. all.Select(p => p.PiecesHave)], [.. all.Select(p => p.Bitfield)], [.. all.Select(p => p.Uploaded)], [.. all.Select(p => p.Peers)]));
            // Exchanges are asked of the first peers only when a lab is there to see them.
            if ((DateTime.UtcNow - lastReport >= TimeSpan.FromSeconds(1) || all.All(p => p.Complete) && !reported) && labPresent())
            {
                lastReport = DateTime.UtcNow;
                await ReportTorrents(torrent, peers, all, reporter);
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

    /// <summary>The first <see cref="ReportedPeers"/> peers' completion and exchanges, for the lab.</summary>
    private static async Task ReportTorrents(TorrentMetainfo torrent, IActorRef[] peers, TorrentProgress[] progress, IActorRef reporter)
    {
        const int ReportedPeers = 50;
        try
        {
            var exchanges = await Task.WhenAll(peers.Take(ReportedPeers).Select(p => p.Ask<TorrentExchanges>(TorrentActor.GetExchanges.Instance, TimeSpan.FromSeconds(2))));
            reporter.Tell(new ProcessReporter.SetTorrents(exchanges.Select((e, i) => new TorrentPeerView(torrent.InfoHashHex, torrent.Name, e.PeerId,
                peers.Length == 1 ? "" : $"#{i}", progress[i].PiecesHave, progress[i].PieceCount, progress[i].Complete, progress[i].ListenPort,
                e.Exchanges.OrderByDescending(x => x.Uploaded + x.Downloaded).Take(100)
                    .Select(x => new ExchangeView(x.PeerId, x.Remote, x.Uploaded, x.Downloaded, x.Connected)).ToList())).ToList()));
        }
        catch (AskTimeoutException)
        {
            // busy peers: the lab gets the next round
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
