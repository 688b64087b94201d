using System.CommandLine;
using System.Text;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Lab;
using Akka.Actor;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors lab</c>: with no sub-command, runs the lab role (a cluster member with role
/// <c>lab</c>: status, events, faults, /metrics and the dashboard over our HTTP server); with a
/// sub-command, a client of a running lab's HTTP API (<see cref="LabClient"/>). Parsed with
/// System.CommandLine; the role's options keep their HOCON keys, like every other role.
/// </summary>
public sealed class LabRole : IRoleCommand
{
    public string Name => "lab";
    public string Summary => "Run the Lab (status, events, faults, dashboard), or talk to it: status, tail, kill, restart, leave, partition, heal, link.";

    // The role's options and the HOCON keys they set (the strongest configuration layer).
    private static readonly (Option<string> Option, string Key)[] RoleOptions =
    [
        Opt("--port", "HTTP port of the API and dashboard (0 picks a free one)", "PORT", "actors.lab.port"),
        Opt("--host", "address to listen on (loopback unless you mean it)", "ADDR", "actors.lab.host"),
        Opt("--token-file", "write the token there (for the CLI)", "FILE", "actors.lab.token-file"),
        Opt("--url-file", "write the lab's URL there (for the CLI)", "FILE", "actors.lab.url-file"),
        Opt("--manifests", "folder of node manifests (how each node was started)", "DIR", "actors.lab.manifests"),
        Opt("--cluster-host", "address other nodes use to reach this node", "HOST", "actors.cluster.host"),
        Opt("--cluster-port", "cluster (Akka.Remote) port; 0 picks a free one", "PORT", "actors.cluster.port"),
        Opt("--name", "the node's name in logs and in the lab", "NAME", "actors.node.name"),
    ];

    private static (Option<string>, string) Opt(string name, string description, string helpName, string key) =>
        (new Option<string>(name) { Description = $"{description} [{key}]", HelpName = helpName }, key);

    private static readonly Option<string[]> Seeds = new("--seed")
    {
        Description = "a seed node's cluster address; repeat for several. None: form a new cluster [actors.cluster.seeds]",
        HelpName = "HOST:PORT",
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static readonly Option<string> ConfigFile = new("--config") { Description = "a HOCON file that overrides config/*.conf", HelpName = "FILE" };

    // Shared by the role (its token) and every client command (the token to present).
    private static readonly Option<string> Token = new("--token")
    {
        Description = "the lab's token (role: use this one instead of a random one [actors.lab.token]; clients: default $ACTORS_LAB_TOKEN, then .cluster/lab.token)",
        HelpName = "TOKEN",
        Recursive = true,
    };

    private static readonly Option<string> Lab = new("--lab")
    {
        Description = "the lab's URL (default: .cluster/lab.url, then http://127.0.0.1:7070/)",
        HelpName = "URL",
        Recursive = true,
    };

    public async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        // Parsed as "actors lab ...", so help and errors name the whole command.
        var result = Build().Parse(["lab", .. args]);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors) Console.Error.WriteLine($"actors lab: {error.Message} (try actors lab --help)");
            return 2;
        }
        try
        {
            // No termination handler of System.CommandLine: the role leaves the cluster on SIGINT
            // itself (ClusterNode), and a client is simply interrupted.
            return await result.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null, Output = LabClient.Out });
        }
        catch (LabUnreachableException ex)
        {
            Console.Error.WriteLine($"actors lab: {ex.Message}");
            return 3;
        }
    }

    private RootCommand Build()
    {
        var root = new Command("lab", Summary);
        foreach (var (option, _) in RoleOptions) root.Options.Add(option);
        root.Options.Add(Seeds);
        root.Options.Add(ConfigFile);
        root.Options.Add(Token);
        root.Options.Add(Lab);
        root.SetAction((result, _) => RunRole(result));

        var json = new Option<bool>("--json") { Description = "print {\"nodes\":[...]} as JSON" };
        var status = new Command("status", "Members, roles, status, reachability, leader, uptime, pid and figures of every node") { json };
        status.SetAction((r, ct) => Client(r).Status(r.GetValue(json), ct));

        var count = new Option<int>("-n", "--count") { Description = "events from the backlog first", DefaultValueFactory = _ => 20 };
        var noFollow = new Option<bool>("--no-follow") { Description = "print the backlog and exit" };
        var tail = new Command("tail", "Print the lab's events (member events, faults, role events) as they happen") { count, noFollow };
        tail.SetAction((r, ct) => Client(r).Tail(r.GetValue(count), !r.GetValue(noFollow), ct));

        var node = new Argument<string>("NAME") { Description = "the node's name as run-cluster prints it (seed, web, tracker1, ...)" };
        var signal = new Option<string>("--signal") { Description = "KILL (kill -9), STOP (pause), CONT (resume), TERM", DefaultValueFactory = _ => "KILL" };
        signal.AcceptOnlyFromAmong("KILL", "STOP", "CONT", "TERM");
        var kill = new Command("kill", "Send a signal to a node's process (default kill -9)") { node, signal };
        kill.SetAction((r, ct) => Client(r).Post($"api/nodes/{Uri.EscapeDataString(r.GetValue(node)!)}/kill?signal={r.GetValue(signal)}", null, ct));

        var noWait = new Option<bool>("--no-wait") { Description = "return once the restart has begun" };
        var restart = new Command("restart", "Stop a node (TERM, then KILL) and start it again with its command line") { node, noWait };
        restart.SetAction((r, ct) => Client(r).Restart(r.GetValue(node)!, !r.GetValue(noWait), ct));

        var leave = new Command("leave", "Ask a node to leave the cluster gracefully") { node };
        leave.SetAction((r, ct) => Client(r).Post($"api/nodes/{Uri.EscapeDataString(r.GetValue(node)!)}/leave", null, ct));

        var spec = new Argument<string>("SPEC") { Description = "one, minority, majority, or a list of node names (a,b,c): cut off from the others" };
        var oneWay = new Option<bool>("--one-way") { Description = "drop traffic from the others to SPEC only" };
        var partition = new Command("partition", "Partition the cluster's links (Akka.Remote): SPEC against the rest") { spec, oneWay };
        partition.SetAction((r, ct) => Client(r).Post("api/partition", new { spec = r.GetValue(spec), oneWay = r.GetValue(oneWay) }, ct));

        var heal = new Command("heal", "Heal every cluster-link partition");
        heal.SetAction((r, ct) => Client(r).Post("api/heal", null, ct));

        root.Subcommands.Add(status);
        root.Subcommands.Add(tail);
        root.Subcommands.Add(kill);
        root.Subcommands.Add(restart);
        root.Subcommands.Add(leave);
        root.Subcommands.Add(partition);
        root.Subcommands.Add(heal);
        root.Subcommands.Add(LinkCommand());
        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(SwarmCommand());
        return new RootCommand("actors: every role of the system from one binary") { root };
    }

    private static Command LinkCommand()
    {
        var link = new Command("link", "Application links through the lab's link proxy, and their toxics");
        var list = new Command("list", "The links and their toxics");
        list.SetAction((r, ct) => Client(r).Get("api/links", ct));
        link.Subcommands.Add(list);

        var name = new Argument<string>("NAME") { Description = "the link's name" };
        var listen = new Option<string>("--listen") { Description = "where the proxy listens", HelpName = "HOST:PORT", Required = true };
        var upstream = new Option<string>("--upstream") { Description = "where it forwards to", HelpName = "HOST:PORT", Required = true };
        var add = new Command("add", "Add a link: a proxy on --listen forwarding to --upstream") { name, listen, upstream };
        add.SetAction((r, ct) => Client(r).Post("api/links", new { name = r.GetValue(name), listen = r.GetValue(listen), upstream = r.GetValue(upstream) }, ct));
        link.Subcommands.Add(add);

        var type = new Argument<string>("TYPE") { Description = "latency, bandwidth, slicer, stall, reset, limit-data, down" };
        var direction = new Option<string>("--direction") { Description = "upstream (client → target), downstream or both", DefaultValueFactory = _ => "both" };
        var attributes = new Option<string[]>("--set") { Description = "an attribute of the toxic, e.g. latency=300 jitter=50", HelpName = "KEY=VALUE", Arity = ArgumentArity.ZeroOrMore };
        var toxic = new Command("toxic", "Add a toxic to a link; it applies to live connections at once") { name, type, direction, attributes };
        toxic.SetAction((r, ct) => Client(r).Post($"api/links/{Uri.EscapeDataString(r.GetValue(name)!)}/toxics", new
        {
            type = r.GetValue(type),
            direction = r.GetValue(direction),
            attributes = (r.GetValue(attributes) ?? []).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : ""),
        }, ct));
        link.Subcommands.Add(toxic);

        var clear = new Command("clear", "Remove every toxic of a link") { name };
        clear.SetAction((r, ct) => Client(r).Post($"api/links/{Uri.EscapeDataString(r.GetValue(name)!)}/clear", null, ct));
        link.Subcommands.Add(clear);

        var remove = new Command("remove", "Stop a link: unbind it and reset its connections") { name };
        remove.SetAction((r, ct) => Client(r).Post($"api/links/{Uri.EscapeDataString(r.GetValue(name)!)}/remove", null, ct));
        link.Subcommands.Add(remove);
        return link;
    }

    // Experiments (src/Actors.Lab/Experiments): they start their own cluster, so no --lab.
    private static Command RunCommand()
    {
        var file = new Argument<string>("FILE") { Description = "a scenario file (config/lab/*.conf)" };
        var repeat = new Option<int>("--repeat") { Description = "runs, seeds S, S+1, ...", DefaultValueFactory = _ => 1 };
        var seed = new Option<int?>("--seed") { Description = "the first run's seed (default: the scenario's)", HelpName = "S" };
        var output = new Option<string>("--out") { Description = "where bundles go: DIR/<scenario>/<timestamp>/", HelpName = "DIR", DefaultValueFactory = _ => Actors.Lab.Experiments.ExperimentCli.DefaultOut };
        var run = new Command("run", "Run a scenario on a cluster of its own; exit 0 when every check held, 1 naming the failed ones") { file, repeat, seed, output };
        run.SetAction((r, ct) => Actors.Lab.Experiments.ExperimentCli.Run(r.GetValue(file)!, Math.Max(1, r.GetValue(repeat)), r.GetValue(seed), r.GetValue(output), LabClient.Out, ct));
        return run;
    }

    private static Command SwarmCommand()
    {
        var peers = new Option<int>("--peers") { Description = "leechers (N)", Required = true };
        var seeders = new Option<int>("--seeders") { Description = "seeders (S), started once the leechers are up", DefaultValueFactory = _ => 1 };
        var size = new Option<string>("--size") { Description = "the file's size F (e.g. 8M)", HelpName = "SIZE", DefaultValueFactory = _ => "8M" };
        var upCap = new Option<string>("--up-cap") { Description = "every peer's upload cap U, bytes/s (e.g. 256K; 0: none, then no bound)", HelpName = "RATE", DefaultValueFactory = _ => "256K" };
        var processes = new Option<int>("--processes") { Description = "leecher processes (0: one per 250 peers)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "where the bundle goes: DIR/swarm-nN/<timestamp>/", HelpName = "DIR", DefaultValueFactory = _ => Actors.Lab.Experiments.ExperimentCli.DefaultOut };
        var swarm = new Command("swarm", "Measure one swarm against the Kumar–Ross bound: completion CDF, piece availability, memory and CPU per peer") { peers, seeders, size, upCap, processes, output };
        swarm.SetAction((r, ct) => Actors.Lab.Experiments.ExperimentCli.Swarm(r.GetValue(peers), r.GetValue(seeders), r.GetValue(size)!, r.GetValue(upCap)!,
            r.GetValue(processes), r.GetValue(output), LabClient.Out, ct));
        return swarm;
    }

    private static LabClient Client(ParseResult result) => LabClient.Create(result.GetValue(Lab), result.GetValue(Token));

    private static Task<int> RunRole(ParseResult result)
    {
        var hocon = new StringBuilder();
        foreach (var (option, key) in RoleOptions)
            if (result.GetValue(option) is { } value) hocon.Append(key).Append(" = ").Append(Quote(value)).Append('\n');
        if (result.GetValue(Token) is { } token) hocon.Append("actors.lab.token = ").Append(Quote(token)).Append('\n');
        if (result.GetValue(Seeds) is { Length: > 0 } seeds)
            hocon.Append("actors.cluster.seeds = [").AppendJoin(", ", seeds.Select(Quote)).Append("]\n");
        var config = ConfigLoader.Load(["lab"], hocon.ToString(), result.GetValue(ConfigFile));
        var settings = LabSettings.Read(config);
        var links = Actors.Lab.Links.LinkManager.Props(config); // checks actors.lab.links now: a bad entry fails fast
        return ClusterNode.RunAsync("lab", config, system =>
            system.ActorOf(RoleGuardian.Props(LabNode.Props(settings, links), "lab"), "lab"));
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
