using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Net.Udp;
using Actors.Torrent.Dht;
using Akka.Actor;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors dht --count N --port P [--bootstrap HOST:PORT ...] [--state-dir DIR]</c>: N Mainline DHT
/// nodes (BEP 5) in one process, each an actor with its own UDP socket: the first on port P, the
/// others on free ports, all joining through the first (and the given bootstrap nodes). Prints one
/// line per node, <c>ID PORT</c>, then runs until Ctrl-C or SIGTERM. Not a cluster member.
/// </summary>
public sealed class DhtCommand : IRoleCommand
{
    public string Name => "dht";
    public string Summary => "Run N Mainline DHT nodes (BEP 5) on UDP, one actor and socket each; prints 'ID PORT' per node.";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("--count", null, "nodes in this process (default 1)", "N"),
        new("--port", null, "UDP port of the first node (default 6881; 0: any); the others take free ports", "PORT"),
        new("--host", null, "address to bind (default 0.0.0.0)", "ADDR"),
        new("--bootstrap", null, "a DHT node to join through; repeat for several", "HOST:PORT", Repeatable: true),
        new("--state-dir", null, "keep each node's id and good contacts in DIR/node-I.state across runs", "DIR"),
        new(CommonOptions.Config, null, "a HOCON file that overrides config/*.conf", "FILE"),
    ];

    public const int MaxCount = 10_000;

    public async Task<int> RunAsync(ParsedArguments parsed)
    {
        var count = Int(parsed, "--count", 1, 1, MaxCount);
        var port = Int(parsed, "--port", 6881, 0, 65535);
        var host = parsed.Value("--host") is { } h
            ? IPAddress.TryParse(h, out var address) ? address : throw new UsageException($"--host: \"{h}\" is not an IP address")
            : IPAddress.Any;
        var bootstrap = parsed.Values("--bootstrap").Select(ParseEndPoint).ToList();
        var stateDir = parsed.Value("--state-dir");

        var config = ConfigLoader.Load([Name], "", parsed.Value(CommonOptions.Config));
        NodeLogger.NodeName = "dht";
        using var system = ActorSystem.Create("dht", ConfigLoader.ForLocalSystem(config));
        var exit = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Quit(PosixSignalContext context) { context.Cancel = true; exit.TrySetResult(0); }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Quit);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Quit);

        var started = system.ActorOf(Props.Create(() => new StartPrinter(count)), "printer");
        IPEndPoint? first = null;
        for (var i = 0; i < count; i++)
        {
            var settings = new DhtSettings
            {
                Host = host,
                Port = i == 0 ? port : 0,
                Bootstrap = first is null ? bootstrap : [.. bootstrap, first],
                StateFile = stateDir is null ? null : Path.Combine(stateDir, $"node-{i}.state"),
            };
            // Under the guardian: a port that is taken ends the process with one line (RoleFailure).
            if (i == 0) DatagramMailbox.Ensure(system);
            system.ActorOf(RoleGuardian.Props(DhtNode.Props(settings, started), "node"), $"dht-{i}");
            if (i == 0)
            {
                // The others join through the first, so it must be bound before they start.
                var ask = started.Ask<DhtNodeStarted>(StartPrinter.WaitForFirst.Instance, TimeSpan.FromSeconds(30));
                await Task.WhenAny(ask, system.WhenTerminated);
                if (!ask.IsCompletedSuccessfully) return 1; // its port was taken: RoleFailure printed why
                var bound = ask.Result;
                first = new IPEndPoint(bound.EndPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : bound.EndPoint.Address, bound.EndPoint.Port);
            }
        }

        var code = await Task.WhenAny(exit.Task, system.WhenTerminated) == exit.Task ? exit.Task.Result : RoleFailure.ExitCode(system);
        // Stopping the nodes writes their state files.
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
        return code;
    }

    private static int Int(ParsedArguments parsed, string name, int fallback, int min, int max)
    {
        var text = parsed.Value(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new UsageException($"{name}: expected a number from {min} to {max}, got \"{text}\"");
        return value;
    }

    internal static IPEndPoint ParseEndPoint(string text) => ParseEndPoint(text, "--bootstrap");

    internal static IPEndPoint ParseEndPoint(string text, string option)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new UsageException($"{option}: expected HOST:PORT, got \"{text}\"");
        var host = text[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var address)) return new IPEndPoint(address, port);
        try
        {
            var resolved = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                           ?? throw new UsageException($"{option}: \"{host}\" has no IPv4 address");
            return new IPEndPoint(resolved, port);
        }
        catch (SocketException ex)
        {
            throw new UsageException($"{option}: cannot resolve \"{host}\": {ex.Message}");
        }
    }

    /// <summary>Prints one line per node as it binds (<c>ID PORT</c>); tells the command when the first is up.</summary>
    private sealed class StartPrinter : ReceiveActor
    {
        public sealed record WaitForFirst
        {
            public static WaitForFirst Instance { get; } = new();
        }

        private DhtNodeStarted? _first;
        private IActorRef? _waiting;

        public StartPrinter(int count)
        {
            var printed = 0;
            Receive<DhtNodeStarted>(s =>
            {
                StandardOutput.Writer.WriteLine($"{s.Id} {s.EndPoint.Port}");
                StandardOutput.Writer.Flush();
                if (++printed == count) Console.Error.WriteLine($"actors dht: {count} node(s) running; Ctrl-C stops");
                if (_first is not null) return;
                _first = s;
                _waiting?.Tell(s);
            });
            Receive<WaitForFirst>(_ =>
            {
                if (_first is not null) Sender.Tell(_first);
                else _waiting = Sender;
            });
        }
    }
}
