using System.Runtime.InteropServices;
using Actors.Benchmarks;
using Actors.Benchmarks.Kestrel;
using Actors.Benchmarks.Processes;
using Actors.Benchmarks.Scenarios;

// Exit codes: 0 = every server ran and measured cleanly (whatever the ratios);
// 2 = the benchmark ran but a server was unavailable or a measurement was flagged;
// 1 = the benchmark could not run (bad arguments, wrk or curl missing, unexpected error).
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 1;
}

if (options.Command == "kestrel")
{
    return KestrelBaseline.Run(options.Root!, options.Port);
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl-C: stop measuring and let the scenario's finally blocks shut servers down.
    // A second one falls through to the default (exit), and ProcessExit below still cleans up.
    if (!cancellation.IsCancellationRequested)
    {
        e.Cancel = true;
        Console.Error.WriteLine("cancelling; stopping servers...");
        cancellation.Cancel();
    }
};
// SIGTERM (a CI timeout, `kill`) takes the same graceful path as Ctrl-C.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancellation.Cancel();
});
AppDomain.CurrentDomain.ProcessExit += (_, _) => Cleanup.DisposeAll();

try
{
    var tools = Tools.Find();
    var clean = true;
    if (options.Command is "web" or "all")
    {
        clean &= await new WebScenario(options, tools).RunAsync(cancellation.Token);
    }
    if (options.Command is "tracker" or "all")
    {
        clean &= await new TrackerScenario(options, tools).RunAsync(cancellation.Token);
    }
    if (options.Command is "udp-tracker")
    {
        clean &= await new UdpTrackerScenario(options, tools).RunAsync(cancellation.Token);
    }
    if (options.Command is "idle" or "all")
    {
        clean &= await new IdleScenario(options).RunAsync(cancellation.Token);
    }
    if (options.Command is "peer")
    {
        clean &= await new PeerScenario(options).RunAsync(cancellation.Token);
    }
    if (options.Command is "swarm")
    {
        clean &= await new PeerScenario(options).RunScaleAsync(cancellation.Token);
    }
    if (options.Command is "peer-memory")
    {
        clean &= await new PeerMemoryScenario(options).RunAsync(cancellation.Token);
    }
    if (options.Command is "actor-cost")
    {
        clean &= await new ActorCostScenario(options).RunAsync(cancellation.Token);
    }
    if (options.Command is "calls")
    {
        clean &= await new CallsScenario(options).RunAsync(cancellation.Token);
    }
    if (options.Command is "dht")
    {
        clean &= await new DhtScenario(options).RunAsync(cancellation.Token);
    }
    return clean ? 0 : 2;
}
catch (SetupException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled");
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine($"benchmark failed: {e}");
    return 1;
}
finally
{
    Cleanup.DisposeAll();
}
