using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Actors.Calls.Load;
using Actors.Host.Cli;
using Actors.Lab.Experiments;
using Actors.Net.Tcp;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors caller load</c>: many relayed calls in one process (<see cref="RelayedCallLoad"/>,
/// bare protocol clients, not <c>CallerAgent</c>s: thousands of them fit). Per step, the media load
/// over that many direct loopback pairs, then over that many calls through the relay; one JSON line
/// per step (<see cref="CallLoadLine"/>). The Lab's calls sweep (<c>actors lab calls</c>) runs it.
/// Exit 0 when every step was measured, 1 when a step's calls could not be set up (its line says why).
/// </summary>
public static class CallLoadCommand
{
    public static CliCommand Command { get; } = new("load",
        "Many relayed calls in one process: per step, direct pairs then calls through the relay under a media load; a JSON line of latency per step",
        [
            new("--rendezvous", null, "the rendezvous", "HOST:PORT", Required: true),
            new("--secret", null, "every identity's secret: the rendezvous's users file must hold PREFIX0 … PREFIX(2 × the steps' sum + 199) with it", "SECRET", Required: true),
            new("--id-prefix", null, "identities PREFIX0, PREFIX1, ...: two per call, fresh for every call (default load-)", "PREFIX"),
            new("--steps", null, "concurrent calls per step, comma-separated (e.g. 50,100,200)", "N,N,...", Required: true),
            new("--frame-rate", null, "media frames per second each way per call (default 50)", "N"),
            new("--frame-size", null, "bytes per frame (default 172: the caller's 20 ms frame)", "BYTES"),
            new("--seconds", null, "measured seconds per step and per load (default 5)", "S"),
            new("--warm-up", null, "unmeasured seconds before each measurement (default 1)", "S"),
        ],
        RunAsync);

    private static async Task<int> RunAsync(ParsedArguments a)
    {
        var steps = ExperimentCli.Steps(a.Value("--steps")!)
            ?? throw new UsageException($"--steps takes concurrent calls 1..{ExperimentCli.MaxCallsPerStep}, comma-separated (got '{a.Value("--steps")}')");
        var shape = new MediaShape(Whole(a, "--frame-rate") ?? MediaShape.Voice.FramesPerSecond, Whole(a, "--frame-size") ?? MediaShape.Voice.FrameBytes);
        if (shape.Problem() is { } problem) throw new UsageException(problem);
        var measure = Seconds(a, "--seconds", 5);
        var warmUp = Seconds(a, "--warm-up", 1);
        IPEndPoint rendezvous;
        try
        {
            var (host, port) = Endpoints.ParseHostPort(a.Value("--rendezvous")!);
            rendezvous = new IPEndPoint(IPAddress.TryParse(host, out var ip) ? ip : (await Dns.GetHostAddressesAsync(host, a.Cancel))[0], port);
        }
        catch (Exception e) when (e is FormatException or SocketException or IndexOutOfRangeException)
        {
            throw new UsageException($"--rendezvous: {e.Message}");
        }

        var load = new RelayedCallLoad(rendezvous, a.Value("--secret")!, a.Value("--id-prefix") ?? "load-");
        try
        {
            await load.AwaitRelayAsync(TimeSpan.FromSeconds(60), a.Cancel);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or SocketException or TimeoutException)
        {
            Print(new CallLoadLine(steps[0], 0, null, null, 0, 0, $"no call was relayed (placed every 0.5 s for up to 60 s): {e.Message}"));
            return 1;
        }
        for (var i = 0; i < steps.Count; i++)
        {
            var calls = steps[i];
            try
            {
                var step = await load.StepAsync(calls, shape, warmUp, measure, a.Cancel);
                Print(new CallLoadLine(calls, Math.Round(step.SetupSeconds, 3), Latency(step.Direct), Latency(step.Relayed), step.MeasuredFromUnixMs, step.MeasuredToUnixMs));
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or SocketException or TimeoutException)
            {
                Print(new CallLoadLine(calls, 0, null, null, 0, 0, $"could not set up {calls} relayed calls: {e.Message}"));
                return 1;
            }
            if (i < steps.Count - 1) await Task.Delay(1000, a.Cancel); // the relay closes the last step's sessions
        }
        return 0;
    }

    private static CallLoadLine.Latency Latency(MediaLoad.Result r) => CallLoadLine.Latency.Of(r.P50Ms, r.P99Ms, r.MaxMs, r.Sent, r.Received);

    private static void Print(CallLoadLine line)
    {
        StandardOutput.Writer.WriteLine(line.ToJson());
        StandardOutput.Writer.Flush();
    }

    private static int? Whole(ParsedArguments a, string name) =>
        a.Value(name) is not { } text ? null
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
        : throw new UsageException($"{name} needs a whole number, not '{text}'");

    private static TimeSpan Seconds(ParsedArguments a, string name, double fallback) =>
        a.Value(name) is not { } text ? TimeSpan.FromSeconds(fallback)
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is > 0 and <= 3600 ? TimeSpan.FromSeconds(s)
        : throw new UsageException($"{name} needs seconds between 0 and 3600, not '{text}'");
}
