namespace Actors.TestSupport;

/// <summary>
/// The real <c>actors</c> binary (<c>actors.dll</c> next to the test assembly) run as a child
/// process, its output collected line by line (<see cref="StdoutLines"/> alone, or merged with
/// stderr in <see cref="Lines"/>). Disposing kills it (and its children) if it is still running.
/// </summary>
public sealed class ActorsProcess : IDisposable
{
    private readonly ProcessRunner _runner;

    public static string ActorsDll => Path.Combine(AppContext.BaseDirectory, "actors.dll");

    public ActorsProcess(params string[] args) : this(null, args) { }

    public ActorsProcess(IDictionary<string, string>? environment, params string[] args)
    {
        _runner = new ProcessRunner("dotnet", [ActorsDll, .. args], AppContext.BaseDirectory, environment, name: $"actors {string.Join(' ', args)}");
    }

    public int Id => _runner.Id;
    public bool HasExited => _runner.HasExited;
    public IReadOnlyCollection<string> Lines => _runner.Lines;
    /// <summary>Stdout alone: only what the command documents (reports, summaries), never logs.</summary>
    public IReadOnlyCollection<string> StdoutLines => _runner.StdoutLines;
    public IReadOnlyCollection<string> StderrLines => _runner.StderrLines;
    public string Output => _runner.Output;

    public void WriteLine(string line) => _runner.WriteLine(line);

    public Task<string> WaitForLine(Func<string, bool> predicate, TimeSpan timeout) => _runner.WaitForLineAsync(predicate, timeout);

    public Task<int> WaitForExit(TimeSpan timeout) => _runner.WaitForExitAsync(timeout);

    public void Signal(string signal) => _runner.Signal(signal);

    /// <summary>Resident memory of the process in bytes, from /proc (Linux).</summary>
    public long ResidentBytes() => _runner.ResidentBytes();

    public static int FreePort() => Ports.Free();

    public static Task WaitForPort(int port, TimeSpan timeout) => Ports.WaitForListener(port, timeout);

    public void Dispose() => _runner.Dispose();
}
