using System.Text.Json;
using System.Text.Json.Serialization;
using Actors.Calls.Caller;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Lab.Agent;
using Akka.Actor;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors caller</c>: a call client. Not a cluster member (it may sit behind a NAT); it speaks
/// only the call protocol to a rendezvous. Prints one JSON line per call; with --call it exits
/// after that call (0 when the call completed, 3 otherwise).
/// </summary>
public sealed class CallerCommand : IRoleCommand
{
    public string Name => "caller";
    public string Summary => "Register at a rendezvous, place or answer calls (20 ms media frames, stdin text), print a JSON report per call.";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("--id", "actors.caller.id", "identity to register as", "NAME"),
        new("--secret", "actors.caller.secret", "the identity's shared secret (never sent)", "SECRET"),
        new("--rendezvous", "actors.caller.rendezvous", "the rendezvous to register at; repeat (or comma-separate) for fallbacks tried in turn when one is lost", "HOST:PORT", Repeatable: true),
        new("--listen", "actors.caller.listen", "accept direct/reverse connections on this port (0: any)", "PORT"),
        new("--listen-host", "actors.caller.listen-host", "address to listen on", "ADDR"),
        new("--call", "actors.caller.call", "call this peer once registered", "PEER"),
        new("--auto-answer", "actors.caller.auto-answer", "accept incoming calls at once", IsFlag: true),
        new("--duration", "actors.caller.duration", "hang up a call we placed after", "SECONDS"),
        new("--wav", "actors.caller.wav", "send this 16-bit PCM mono/stereo WAV (looped) instead of a tone", "FILE"),
        new(CommonOptions.Config, null, "a HOCON file that overrides config/*.conf", "FILE"),
        new("--lab", null, "report calls (pair, path, RTT, jitter, loss) to this lab (default: $ACTORS_LAB_URL, then .cluster/lab.url when present; off: none)", "URL"),
    ];

    /// <summary><c>actors caller load</c>: many relayed calls in one process, for the Lab's calls sweep.</summary>
    public IReadOnlyList<CliCommand> Subcommands => [CallLoadCommand.Command];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public async Task<int> RunAsync(ParsedArguments parsed)
    {
        // --duration takes plain seconds too.
        var duration = parsed.Value("--duration");
        var hocon = parsed.ToHocon();
        if (duration is not null && double.TryParse(duration, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            hocon += $"actors.caller.duration = {(long)(seconds * 1000)}ms\n";
        var config = ConfigLoader.Load([Name], hocon, parsed.Value(CommonOptions.Config));
        var settings = CallerSettings.Read(config);

        NodeLogger.NodeName = $"caller {settings.Id}";
        using var system = ActorSystem.Create("caller", ConfigLoader.ForLocalSystem(config));
        var exit = new TaskCompletionSource<int>();
        var exitAfterCall = settings.Call != null;
        // The Lab's calls view: this caller's calls, reported over the lab's HTTP API when a lab is found.
        var reporter = system.ActorOf(ProcessReporter.Props(parsed.Value("--lab"), $"caller-{settings.Id}", ["caller"]), "lab-reporter");
        system.ActorOf(Props.Create(() => new CallerConsole(exitAfterCall, exit, reporter, settings.Id, settings.Call)), "console");
        // Under the guardian, a --listen port that is taken ends the caller like any role (RoleFailure).
        var agent = system.ActorOf(RoleGuardian.Props(CallerAgent.Props(settings), "agent"), "caller");

        _ = Task.Run(() =>
        {
            // Typed lines become text (or /call PEER, /answer, /reject, /hangup); EOF just stops reading.
            for (var line = Console.In.ReadLine(); line is not null; line = Console.In.ReadLine()) agent.Tell(new UserInput(line));
        });
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Quit);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Quit);
        void Quit(System.Runtime.InteropServices.PosixSignalContext context) { context.Cancel = true; exit.TrySetResult(0); }

        var code = await Task.WhenAny(exit.Task, system.WhenTerminated) == exit.Task ? exit.Task.Result : RoleFailure.ExitCode(system);
        if (!system.WhenTerminated.IsCompleted) // the last call's end reaches the lab before we go
            await reporter.Ask<ProcessReporter.Flushed>(ProcessReporter.Flush.Instance, TimeSpan.FromSeconds(3)).ContinueWith(_ => { });
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        return code;
    }

    /// <summary>Prints what the caller reports; decides when the process is done.</summary>
    private sealed class CallerConsole : ReceiveActor
    {
        private readonly Dictionary<string, string> _callers = new(StringComparer.Ordinal); // call id → who rang us

        public CallerConsole(bool exitAfterCall, TaskCompletionSource<int> exit, IActorRef reporter, string id, string? calling)
        {
            void Report(string callId, bool? isCaller, string state, string? path, double? rtt, double? jitter, double? loss, string? result)
            {
                var ringing = _callers.TryGetValue(callId, out var from);
                var caller = isCaller ?? !ringing;
                reporter.Tell(new ProcessReporter.CallChanged(new CallView(callId, id, (caller ? calling : from) ?? "?", caller ? "caller" : "callee",
                    state, path, rtt, jitter, loss, result, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
            }
            Receive<CallerRegistered>(r => Print($"registered as {r.Id}; seen at {r.ObservedHost}; reachable: {(r.Reachable ? "yes" : "no")}"));
            Receive<IncomingRing>(r =>
            {
                _callers[r.CallId] = r.From;
                Report(r.CallId, false, "ringing", null, null, null, null, null);
                Print($"ringing: {r.From} is calling ({r.CallId})");
            });
            Receive<PathEstablished>(p =>
            {
                Report(p.CallId, null, "in-call", Path(p.Path), null, null, null, null);
                Print($"connected: {p.Path.ToString().ToLowerInvariant()} path after {p.SetupMs:F0} ms");
            });
            Receive<CallStats>(s => reporter.Tell(new ProcessReporter.CallChanged(new CallView(s.CallId, id, s.Peer, s.IsCaller ? "caller" : "callee",
                "in-call", Path(s.Path), s.RttMs, s.JitterMs, s.Loss, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))));
            Receive<TextReceived>(t => Print($"{t.From}: {t.Body}"));
            Receive<CallSummary>(summary =>
            {
                reporter.Tell(new ProcessReporter.CallChanged(new CallView(summary.CallId, summary.Id, summary.Peer, summary.Role, "ended", summary.Path,
                    summary.RttMs, summary.JitterMs, summary.Loss, summary.Result, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())));
                Print(JsonSerializer.Serialize(summary, Json));
                if (exitAfterCall && summary.Role == "caller") exit.TrySetResult(summary.Result == "completed" ? 0 : 3);
            });
            Receive<CallerStopped>(s => { Console.Error.WriteLine($"actors caller: {s.Reason}"); exit.TrySetResult(1); });
        }

        protected override void PreStart()
        {
            foreach (var type in new[] { typeof(CallerRegistered), typeof(IncomingRing), typeof(PathEstablished), typeof(CallStats), typeof(TextReceived), typeof(CallSummary), typeof(CallerStopped) })
                Context.System.EventStream.Subscribe(Self, type);
        }

        private static string Path(Actors.Calls.Protocol.PathKind path) => path.ToString().ToLowerInvariant();

        private static void Print(string line)
        {
            StandardOutput.Writer.WriteLine(line);
            StandardOutput.Writer.Flush();
        }
    }
}
