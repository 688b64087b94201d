using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Servers;

/// <summary>
/// A server under test that is up: its processes and the base URLs to load. Several URLs mean
/// several nodes of one logical service (the load is spread over them and added up).
/// </summary>
public sealed class RunningServer(IReadOnlyList<string> baseUrls, IReadOnlyList<ChildProcess> processes,
    IReadOnlyList<ChildProcess>? support = null) : IDisposable
{
    /// <summary>Processes the service needs but that are not measured (a cluster's seed node); stopped with it.</summary>
    private IReadOnlyList<ChildProcess> Support { get; } = support ?? [];

    public IReadOnlyList<string> BaseUrls { get; } = baseUrls;

    private IReadOnlyList<ChildProcess> Processes { get; } = processes;

    public IReadOnlyList<string> UrlsFor(string pathAndQuery) => BaseUrls.Select(b => b + pathAndQuery).ToList();

    /// <summary>CPU seconds its processes (and their children, e.g. nginx workers) have used so far.</summary>
    public double CpuSeconds() => Processes.Sum(p => ProcessCpu.Seconds(p.Id));

    /// <summary>Process ids of its processes (one per node), e.g. to read their memory.</summary>
    public IReadOnlyList<int> ProcessIds => Processes.Select(p => p.Id).ToList();

    /// <summary>Kills one node's process at once (SIGKILL), as `kill -9` would.</summary>
    public void KillNode(int index) => Processes[index].Kill();

    /// <summary>True when one of its processes has died (crashed under load, say).</summary>
    public bool HasExitedProcess => Processes.Any(p => p.HasExited);

    /// <summary>Several started servers as one service (the nodes of a cluster): all their URLs and processes.</summary>
    public static RunningServer Combine(IReadOnlyList<RunningServer> nodes, RunningServer? support = null) =>
        new(nodes.SelectMany(n => n.BaseUrls).ToList(), nodes.SelectMany(n => n.Processes).ToList(),
            support is null ? null : [.. support.Processes, .. support.Support]);

    public void Dispose()
    {
        foreach (var process in Processes.Concat(Support))
        {
            process.Dispose();
        }
    }
}

/// <summary>A server that could not be started; the scenario reports it and goes on with the others.</summary>
public sealed class ServerUnavailableException(string message) : Exception(message);

/// <summary>Starts one server process and waits, bounded, until it listens.</summary>
public static class ServerProcess
{
    public static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(30);

    public static async Task<RunningServer> StartAsync(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        int port,
        CancellationToken cancellationToken,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ChildProcess process;
        try
        {
            process = ChildProcess.Start(name, fileName, arguments, workingDirectory, environment);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            throw new ServerUnavailableException($"could not start {fileName}: {e.Message}");
        }

        try
        {
            var problem = await Ports.WaitUntilListeningAsync(port, process, ReadinessTimeout, cancellationToken);
            if (problem is not null)
            {
                var output = process.RecentOutput.Trim();
                throw new ServerUnavailableException(output.Length == 0 ? problem : $"{problem}; output:{Environment.NewLine}{Indent(output)}");
            }
            return new RunningServer([$"http://127.0.0.1:{port}"], [process]);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    private static string Indent(string text)
    {
        var lines = text.Split('\n');
        // The tail is enough to see why; a stack trace can be long.
        return string.Join('\n', lines.TakeLast(15).Select(l => "      " + l.TrimEnd()));
    }
}
