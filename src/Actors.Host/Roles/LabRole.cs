using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Lab;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors lab</c>: with no sub-command, runs the lab role (a cluster member with role
/// <c>lab</c>: status, events, faults, /metrics and the dashboard over our HTTP server); with a
/// sub-command, a client of a running lab's HTTP API (<see cref="LabClient"/>). Client exit codes:
/// 0 done, 1 the lab refused or failed, 2 usage error, 3 the lab cannot be reached.
/// </summary>
public sealed class LabRole : ClusterRoleCommand
{
    public override string Name => "lab";
    public override string Summary => "Run the Lab (status, events, faults, dashboard), or talk to it: status, tail, kill, restart, leave, partition, heal, link; run a scenario or a sweep: run, swarm, calls.";

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--port", "actors.lab.port", "HTTP port of the API and dashboard (0 picks a free one)", "PORT"),
        new("--host", "actors.lab.host", "address to listen on (loopback unless you mean it)", "ADDR"),
        new("--token", "actors.lab.token", "the token clients must present (default: a random one)", "TOKEN"),
        new("--token-file", "actors.lab.token-file", "write the token there (for the CLI)", "FILE"),
        new("--url-file", "actors.lab.url-file", "write the lab's URL there (for the CLI)", "FILE"),
        new("--manifests", "actors.lab.manifests", "folder of node manifests (how each node was started)", "DIR"),
    ];

    // The lab observes faults; it must not be one. Downed by SBR (its process stalled under load
    // longer than the cluster's failure detector allows), it joins again with the same token and ports.
    protected override bool RejoinWhenDowned => true;

    protected override Action<ActorSystem> Prepare(Config config)
    {
        var settings = LabSettings.Read(config);
        var links = Actors.Lab.Links.LinkManager.Props(config); // checks actors.lab.links now: a bad entry fails fast
        return system => system.ActorOf(RoleGuardian.Props(LabNode.Props(settings, links), "lab"), "lab");
    }

    /// <summary>What every client command takes: which lab, and the token to present.</summary>
    public static readonly CliOption[] ClientOptions =
    [
        new("--lab", null, "the lab's URL (default: .cluster/lab.url, then " + LabClient.DefaultUrl + ")", "URL"),
        new("--token", null, "the lab's token (default: $ACTORS_LAB_TOKEN, then .cluster/lab.token)", "TOKEN"),
    ];

    private static readonly CliArgument Node = new("NAME", "the node's name as run-cluster prints it (seed, web, tracker1, ...)");
    private static readonly CliArgument LinkName = new("NAME", "the link's name");

    public override IReadOnlyList<CliCommand> Subcommands =>
    [
        new("status", "Members, roles, status, reachability, leader, uptime, pid and figures of every node",
            [.. ClientOptions, new("--json", null, "print {\"nodes\":[...]} as JSON", IsFlag: true)],
            a => Client(a, c => c.Status(a.Has("--json"), a.Cancel))),
        new("tail", "Print the lab's events (member events, faults, role events) as they happen",
            [.. ClientOptions,
             new("--count", null, "events from the backlog first (default 20)", "N", Aliases: ["-n"]),
             new("--no-follow", null, "print the backlog and exit", IsFlag: true)],
            a => Client(a, c => c.Tail(Count(a), !a.Has("--no-follow"), a.Cancel))),
        new("kill", "Send a signal to a node's process (default kill -9)",
            [.. ClientOptions, new("--signal", null, "KILL (kill -9), STOP (pause), CONT (resume), TERM; default KILL", "SIGNAL", Choices: ["KILL", "STOP", "CONT", "TERM"])],
            a => Client(a, c => c.Post($"api/nodes/{Escape(a.Argument("NAME"))}/kill?signal={a.Value("--signal") ?? "KILL"}", null, a.Cancel)))
        { Arguments = [Node] },
        new("restart", "Stop a node (TERM, then KILL) and start it again with its command line",
            [.. ClientOptions, new("--no-wait", null, "return once the restart has begun", IsFlag: true)],
            a => Client(a, c => c.Restart(a.Argument("NAME"), !a.Has("--no-wait"), a.Cancel)))
        { Arguments = [Node] },
        new("leave", "Ask a node to leave the cluster gracefully", ClientOptions,
            a => Client(a, c => c.Post($"api/nodes/{Escape(a.Argument("NAME"))}/leave", null, a.Cancel)))
        { Arguments = [Node] },
        new("partition", "Partition the cluster's links (Akka.Remote): SPEC against the rest",
            [.. ClientOptions, new("--one-way", null, "drop traffic from the others to SPEC only", IsFlag: true)],
            a => Client(a, c => c.Post("api/partition", new { spec = a.Argument("SPEC"), oneWay = a.Has("--one-way") }, a.Cancel)))
        { Arguments = [new("SPEC", "one, minority, majority, or a list of node names (a,b,c): cut off from the others")] },
        new("heal", "Heal every cluster-link partition", ClientOptions,
            a => Client(a, c => c.Post("api/heal", null, a.Cancel))),
        new("link", "Application links through the lab's link proxy, and their toxics", [], CliCommand.NeedsSubcommand("list, add, toxic, clear or remove"))
        {
            Subcommands =
            [
                new("list", "The links and their toxics", ClientOptions, a => Client(a, c => c.Get("api/links", a.Cancel))),
                new("add", "Add a link: a proxy on --listen forwarding to --upstream",
                    [.. ClientOptions,
                     new("--listen", null, "where the proxy listens", "HOST:PORT", Required: true),
                     new("--upstream", null, "where it forwards to", "HOST:PORT", Required: true)],
                    a => Client(a, c => c.Post("api/links", new { name = a.Argument("NAME"), listen = a.Value("--listen"), upstream = a.Value("--upstream") }, a.Cancel)))
                { Arguments = [LinkName] },
                new("toxic", "Add a toxic to a link; it applies to live connections at once",
                    [.. ClientOptions,
                     new("--direction", null, "upstream (client → target), downstream or both; default both", "DIRECTION", Choices: ["upstream", "downstream", "both"]),
                     new("--set", null, "an attribute of the toxic, e.g. latency=300; repeat for several (--set latency=300 --set jitter=50)", "KEY=VALUE", Repeatable: true)],
                    a => Client(a, c => c.Post($"api/links/{Escape(a.Argument("NAME"))}/toxics", new
                    {
                        type = a.Argument("TYPE"),
                        direction = a.Value("--direction") ?? "both",
                        attributes = a.Values("--set").Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
                    }, a.Cancel)))
                { Arguments = [LinkName, new("TYPE", "latency, bandwidth, slicer, stall, reset, limit-data, down")] },
                new("clear", "Remove every toxic of a link", ClientOptions,
                    a => Client(a, c => c.Post($"api/links/{Escape(a.Argument("NAME"))}/clear", null, a.Cancel)))
                { Arguments = [LinkName] },
                new("remove", "Stop a link: unbind it and reset its connections", ClientOptions,
                    a => Client(a, c => c.Post($"api/links/{Escape(a.Argument("NAME"))}/remove", null, a.Cancel)))
                { Arguments = [LinkName] },
            ],
        },
        // Experiments (src/Actors.Lab/Experiments) start a cluster of their own: no --lab.
        new("run", "Run a scenario on a cluster of its own; exit 0 when every check held, 1 naming the failed ones",
            [new("--repeat", null, "runs, with seeds S, S+1, ... (default 1)", "N"),
             new("--seed", null, "the first run's seed (default: the scenario's)", "S"),
             new("--out", null, "where bundles go: DIR/<scenario>/<timestamp>/ (default " + Actors.Lab.Experiments.ExperimentCli.DefaultOut + ")", "DIR")],
            a => Actors.Lab.Experiments.ExperimentCli.Run(a.Argument("FILE"), Math.Max(1, WholeNumber(a, "--repeat") ?? 1), WholeNumber(a, "--seed"),
                a.Value("--out") ?? Actors.Lab.Experiments.ExperimentCli.DefaultOut, LabClient.Out, a.Cancel))
        { Arguments = [new("FILE", "a scenario file (config/lab/*.conf)")] },
        new("swarm", "Measure one swarm against the Kumar–Ross bound: completion CDF, piece availability, memory and CPU per peer",
            [new("--peers", null, "leechers (N)", "N", Required: true),
             new("--seeders", null, "seeders (default 1)", "S"),
             new("--size", null, "file size F (default 8M)", "SIZE"),
             new("--up-cap", null, "every peer's upload cap, bytes/s (default 256K)", "RATE"),
             new("--processes", null, "leecher processes (default one per 1,000 peers)", "P"),
             new("--super-seed", null, "the seeders super-seed (BEP 16: each piece shown to one peer first)", IsFlag: true),
             new("--seed", null, "the seed of the file's random bytes (default 1)", "S"),
             new("--out", null, "where the bundle goes (default " + Actors.Lab.Experiments.ExperimentCli.DefaultOut + ")", "DIR")],
            a => Actors.Lab.Experiments.ExperimentCli.Swarm(WholeNumber(a, "--peers") ?? throw new UsageException("swarm needs --peers N"),
                WholeNumber(a, "--seeders") ?? 1, a.Value("--size") ?? "8M", a.Value("--up-cap") ?? "256K", WholeNumber(a, "--processes") ?? 0,
                a.Value("--out") ?? Actors.Lab.Experiments.ExperimentCli.DefaultOut, LabClient.Out, a.Cancel, a.Has("--super-seed"), WholeNumber(a, "--seed") ?? 1)),
        new("calls", "Concurrent relayed calls against added latency per frame (p50, p99) through one relay: a bundle with a plot",
            [new("--steps", null, "concurrent calls per step, comma-separated (default 50,100,200,400)", "N,N,..."),
             new("--frame-rate", null, "media frames per second each way per call (default 50)", "N"),
             new("--frame-size", null, "bytes per frame (default 172: the caller's 20 ms frame)", "BYTES"),
             new("--step-seconds", null, "measured seconds per step, for the direct baseline and again through the relay (default 5)", "S"),
             new("--out", null, "where the bundle goes: DIR/calls/<timestamp>/ (default " + Actors.Lab.Experiments.ExperimentCli.DefaultOut + ")", "DIR")],
            a => Actors.Lab.Experiments.ExperimentCli.Calls(a.Value("--steps") ?? "50,100,200,400", WholeNumber(a, "--frame-rate") ?? 50,
                WholeNumber(a, "--frame-size") ?? 172, Seconds(a, "--step-seconds") ?? 5,
                a.Value("--out") ?? Actors.Lab.Experiments.ExperimentCli.DefaultOut, LabClient.Out, a.Cancel)),
    ];

    private static double? Seconds(ParsedArguments args, string name) =>
        args.Value(name) is not { } text ? null
        : double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s
        : throw new UsageException($"{name} needs seconds, not '{text}'");

    private static int? WholeNumber(ParsedArguments args, string name) =>
        args.Value(name) is not { } text ? null
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"{name} needs a whole number, not '{text}'");

    /// <summary>Runs one client call; a lab that does not answer is exit code 3.</summary>
    private static async Task<int> Client(ParsedArguments args, Func<LabClient, Task<int>> call)
    {
        try
        {
            return await call(LabClient.Create(args.Value("--lab"), args.Value("--token")));
        }
        catch (LabUnreachableException ex)
        {
            Console.Error.WriteLine($"actors lab: {ex.Message}");
            return 3;
        }
    }

    private static int Count(ParsedArguments args) =>
        args.Value("--count") is not { } text ? 20
        : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"--count needs a whole number, not '{text}'");

    private static string Escape(string value) => Uri.EscapeDataString(value);
}
