using System.Reflection;
using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Servers;

/// <summary>
/// Starts the Kestrel baseline: this same assembly with the `kestrel` sub-command, in its own
/// process so it does not share a GC, thread pool or CPU accounting with the benchmark driver.
/// </summary>
public static class KestrelServer
{
    public static Task<RunningServer> StartAsync(string root, CancellationToken cancellationToken)
    {
        var port = Ports.FindFree();
        var self = Assembly.GetEntryAssembly()?.Location
            ?? throw new ServerUnavailableException("cannot locate the benchmark assembly");
        string[] arguments = [self, "kestrel", "--root", root, "--port", port.ToString()];
        // An ASP.NET Core app (Microsoft.NET.Sdk.Web) runs with server GC by default; this console
        // project does not, so set it to measure Kestrel as it is normally deployed.
        var environment = new Dictionary<string, string> { ["DOTNET_gcServer"] = "1" };
        return ServerProcess.StartAsync("kestrel", "dotnet", arguments, port, cancellationToken, environment: environment);
    }
}
