namespace Actors.TestSupport;

/// <summary>
/// A process run inside a network namespace (<c>ip netns exec</c> execs it, so the pid is the
/// program's own), or in the current one when the namespace is null; its output collected line by
/// line. Disposing kills it if still running.
/// </summary>
public sealed class NsProcess : IDisposable
{
    private readonly ProcessRunner _runner;

    public static string ActorsDll => ActorsProcess.ActorsDll;

    public static NsProcess Actors(string? ns, params string[] args) => new(ns, ["dotnet", ActorsDll, .. args]);

    /// <param name="ns">null: run in the current namespace.</param>
    public NsProcess(string? ns, IReadOnlyList<string> command)
    {
        Name = $"{ns ?? "local"}: {string.Join(' ', command.Skip(command[0] == "dotnet" ? 2 : 0))}";
        _runner = ns is null
            ? new ProcessRunner(command[0], command.Skip(1), AppContext.BaseDirectory, name: Name)
            : new ProcessRunner("ip", ["netns", "exec", ns, .. command], AppContext.BaseDirectory, name: Name);
    }

    public string Name { get; }
    public IReadOnlyCollection<string> Lines => _runner.Lines;
    /// <summary>Stdout alone: only what the command documents (the caller's JSON report), never logs.</summary>
    public IReadOnlyCollection<string> StdoutLines => _runner.StdoutLines;
    public IReadOnlyCollection<string> StderrLines => _runner.StderrLines;
    public string Output => _runner.Output;
    public bool HasExited => _runner.HasExited;

    public void WriteLine(string line) => _runner.WriteLine(line);

    public string WaitForLine(Func<string, bool> predicate, TimeSpan timeout) => _runner.WaitForLine(predicate, timeout);

    public int WaitForExit(TimeSpan timeout) => _runner.WaitForExit(timeout);

    public void Kill() => _runner.Kill();

    public void Dispose() => _runner.Dispose();
}
