using System.Globalization;

namespace Actors.Benchmarks;

/// <summary>
/// Command line: `&lt;scenario&gt; [--duration S] [--rounds N] [--actors PATH]`, and the internal
/// `kestrel --root DIR --port N`. Hand-parsed: the project takes no packages.
/// </summary>
public sealed record BenchOptions(string Command, TimeSpan Duration, int Rounds, string? ActorsDll, string? Root, int Port)
{
    /// <summary>Scenario `peer`: the one-seeder-one-leecher file size, the swarm's size, peers and upload cap.</summary>
    public int SizeMiB { get; init; } = 1024;
    public int SwarmSizeMiB { get; init; } = 16;
    public int Peers { get; init; } = 20;
    public int UploadCapKiB { get; init; } = 1024;
    /// <summary>Scenario `peer`: skip the pairs, run only the capped swarm.</summary>
    public bool SwarmOnly { get; init; }
    /// <summary>Scenario `peer`: the swarm's seeder runs `--super-seed` (BEP 16).</summary>
    public bool SuperSeed { get; init; }
    /// <summary>Scenario `tracker`: peers each tracker is filled with (keep-alive announces) before the measured rounds.</summary>
    public int FillPeers { get; init; }
    /// <summary>Scenario `swarm`: the leechers are split over this many `actors peer get --count` processes.</summary>
    public int Processes { get; init; } = 1;
    /// <summary>Scenario `swarm`: seconds from starting the leechers to the 10 s idle window (start-up of 1,000 peers takes tens of seconds).</summary>
    public int IdleSettleSeconds { get; init; } = 20;
    /// <summary>Scenario `calls`: the largest step of concurrent relayed calls.</summary>
    public int MaxCalls { get; init; } = 1600;
    /// <summary>Scenario `dht`: the network sizes, and get_peers lookups per phase.</summary>
    public IReadOnlyList<int> DhtNodes { get; init; } = [100, 1000];
    public int DhtLookups { get; init; } = 100;
    /// <summary>DhtSettings.SlowQueryAfter in ms (0: the rule off), to compare lookups with and without it.</summary>
    public int DhtSlowQueryMs { get; init; } = 1000;
    /// <summary>Scenario `peer-memory`: akka.io.tcp.maximum-frame-size in KiB (0: config/peer.conf's many-peers-frame-size).</summary>
    public int FrameKiB { get; init; }
    /// <summary>Scenario `actor-cost`: idle actors, swarms and peers measured (100,000 each by default).</summary>
    public int Count { get; init; } = 100_000;

    public const string Usage = """
        usage: Actors.Benchmarks <web|tracker|udp-tracker|idle|all|peer|swarm|peer-memory|actor-cost|calls|dht> [--duration S] [--rounds N] [--actors PATH]
               Actors.Benchmarks kestrel --root DIR --port N     (the Kestrel baseline server)

          --duration S   seconds per wrk run (default 10); for idle, the window (at least 30)
          --rounds N     rounds; servers alternate within each round, the median is reported (default 3)
          --actors PATH  our server's actors.dll (default: published ReadyToRun to src/Actors.Host/bin/ready-to-run,
                         as run-cluster.sh does, with `dotnet publish src/Actors.Host -c Release --use-current-runtime`)
          udp-tracker (not part of `all`): BEP 15 announces/s of ours and opentracker, and ours over HTTP
          tracker only:
          --fill N       before the rounds, fill each tracker with N random peers using keep-alive
                         announces (default 0: the rounds alone grow the swarms)
          peer only (not part of `all`):
          --size MIB     file for one seeder → one leecher (default 1024)
          --swarm-size MIB, --peers N, --up-cap KIB   the capped swarm (defaults 16, 20, 1024)
          --swarm-only   skip the pairs: only the capped swarm
          --super-seed   the swarm's seeder super-seeds (BEP 16, `actors peer seed --super-seed`)
          swarm only (not part of `all`; --peers, --swarm-size and --up-cap as for peer):
          --processes P  split the leechers over P processes (default 1)
          --idle-settle S  seconds after the leechers start before the 10 s idle window (default 20;
                         60 or more measures 1,000 peers idle rather than finishing their start-up)
          peer-memory only (not part of `all`; in process, no tools needed):
          --peers K      idle connections opened to one seeding torrent (default 20; try 1000)
          --frame KIB    akka.io.tcp.maximum-frame-size for that run (default: as config/peer.conf)
          actor-cost only (not part of `all`; in process, a few seconds):
          --count N      idle actors, one-peer swarms and peers measured (default 100000)
          calls only (not part of `all`; --size is the relayed bytes, --duration the seconds per load step):
          --max-calls N  largest step of concurrent relayed calls (default 1600)
          dht only (not part of `all`):
          --nodes LIST   network sizes, comma-separated (default 100,1000)
          --lookups N    get_peers lookups per size and phase (default 100)
          --slow-query-ms MS  a lookup's query gives up its slot after MS (default 1000; 0: never)
        """;

    public static BenchOptions Parse(string[] args)
    {
        if (args.Length == 0)
        {
            throw new ArgumentException("missing scenario");
        }
        var command = args[0];
        if (command is not ("web" or "tracker" or "udp-tracker" or "idle" or "all" or "kestrel" or "peer" or "swarm" or "peer-memory" or "actor-cost" or "calls" or "dht"))
        {
            throw new ArgumentException($"unknown scenario '{command}'");
        }

        var duration = TimeSpan.FromSeconds(10);
        var rounds = 3;
        string? actors = null;
        string? root = null;
        var port = 0;
        IReadOnlyList<int> dhtNodes = [100, 1000];
        var dhtLookups = 100;
        var slowQueryMs = 1000;
        var frame = 0;
        var count = 100_000;
        bool swarmOnly = false, superSeed = false;
        int size = 1024, swarmSize = 16, peers = 20, upCap = 1024, maxCalls = 1600, fill = 0, processes = 1, idleSettle = 20;
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--duration":
                    duration = TimeSpan.FromSeconds(PositiveInt(name, Value()));
                    break;
                case "--rounds":
                    rounds = PositiveInt(name, Value());
                    break;
                case "--actors":
                    actors = Value();
                    break;
                case "--root":
                    root = Value();
                    break;
                case "--port":
                    port = PositiveInt(name, Value());
                    break;
                case "--size":
                    size = PositiveInt(name, Value());
                    break;
                case "--swarm-size":
                    swarmSize = PositiveInt(name, Value());
                    break;
                case "--processes":
                    processes = PositiveInt(name, Value());
                    break;
                case "--idle-settle":
                    idleSettle = PositiveInt(name, Value());
                    break;
                case "--peers":
                    peers = PositiveInt(name, Value());
                    break;
                case "--up-cap":
                    upCap = PositiveInt(name, Value());
                    break;
                case "--swarm-only":
                    swarmOnly = true;
                    break;
                case "--super-seed":
                    superSeed = true;
                    break;
                case "--fill":
                    fill = PositiveInt(name, Value());
                    break;
                case "--max-calls":
                    maxCalls = PositiveInt(name, Value());
                    break;
                case "--nodes":
                    dhtNodes = Value().Split(',').Select(v => PositiveInt(name, v)).ToList();
                    break;
                case "--frame":
                    frame = PositiveInt(name, Value());
                    break;
                case "--count":
                    count = PositiveInt(name, Value());
                    break;
                case "--lookups":
                    dhtLookups = PositiveInt(name, Value());
                    break;
                case "--slow-query-ms":
                    slowQueryMs = int.TryParse(Value(), out var ms) && ms >= 0 ? ms : throw new ArgumentException("--slow-query-ms needs 0 or more");
                    break;
                default:
                    throw new ArgumentException($"unknown option '{name}'");
            }
        }
        if (command == "kestrel" && (root is null || port == 0))
        {
            throw new ArgumentException("kestrel needs --root DIR and --port N");
        }
        return new BenchOptions(command, duration, rounds, actors, root, port)
        {
            SwarmOnly = swarmOnly, SuperSeed = superSeed,
            SizeMiB = size, SwarmSizeMiB = swarmSize, Peers = peers, UploadCapKiB = upCap, MaxCalls = maxCalls, FillPeers = fill, Processes = processes, IdleSettleSeconds = idleSettle,
            DhtNodes = dhtNodes, DhtLookups = dhtLookups, DhtSlowQueryMs = slowQueryMs, FrameKiB = frame, Count = count,
        };
    }

    private static int PositiveInt(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} must be a positive integer, got '{text}'");
}
