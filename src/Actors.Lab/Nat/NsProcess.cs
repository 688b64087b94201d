using System.Collections.Concurrent;
using System.Diagnostics;

namespace Actors.Lab.Nat;

/// <summary>
/// A process run inside a network namespace (<c>ip netns exec</c> execs it, so the pid is the
/// program's own), or in the current one when the namespace is null; its output collected line by
/// line (<see cref="Lines"/> both streams in arrival order, <see cref="StdoutLines"/> and
/// <see cref="StderrLines"/> each alone). Disposing kills it if still running. Used by the NAT
/// matrix scenario and by the Calls tests.
/// </summary>
public sealed class NsProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    /// <summary>actors.dll next to the running assembly (the host itself, or a test's copy).</summary>
    public static string ActorsDll => Path.Combine(AppContext.BaseDirectory, "actors.dll");

    public static NsProcess Actors(string? ns, params string[] args) => new(ns, ["dotnet", ActorsDll, .. args]);

    /// <param name="ns">null: run in the current namespace.</param>
    public NsProcess(string? ns, IReadOnlyList<string> command)
    {
        // "dotnet actors.dll ARGS" and the apphost ".../actors ARGS" are both named "actors ARGS".
        var dotnet = Path.GetFileNameWithoutExtension(command[0]) == "dotnet";
        var program = dotnet || Path.GetFileName(command[0]) == "actors" ? "actors" : command[0];
        Name = $"{ns ?? "local"}: {string.Join(' ', command.Skip(dotnet ? 2 : 1).Prepend(program))}";
        // Through `env --default-signal=INT` (which execs the program): a run started in the
        // background inherits SIGINT as ignored, and .NET keeps an inherited ignore.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] args = ns is null ? ["--default-signal=INT", .. command] : ["--default-signal=INT", "ip", "netns", "exec", ns, .. command];
        foreach (var arg in args) start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {Name}");
        _process.OutputDataReceived += (_, e) => Collect(e.Data, _stdout);
        _process.ErrorDataReceived += (_, e) => Collect(e.Data, _stderr);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public bool HasExited => _process.HasExited;
    public IReadOnlyCollection<string> Lines => _lines.ToArray();
    /// <summary>Stdout alone: only what the command documents (the caller's JSON report), never logs.</summary>
    public IReadOnlyCollection<string> StdoutLines => _stdout.ToArray();
    public IReadOnlyCollection<string> StderrLines => _stderr.ToArray();
    public string Output => string.Join('\n', _lines);

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>The first line (either stream) that matches; throws with the output so far after <paramref name="timeout"/>.</summary>
    public string WaitForLine(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancel = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            cancel.ThrowIfCancellationRequested();
            if (_lines.FirstOrDefault(predicate) is { } match) return match;
            if (_process.HasExited)
            {
                _process.WaitForExit(); // the last lines can still be in flight
                if (_lines.FirstOrDefault(predicate) is { } last) return last;
                break;
            }
            Thread.Sleep(50);
        }
        var state = _process.HasExited ? $"exited with {_process.ExitCode}" : "still running";
        throw new TimeoutException($"[{Name}] no matching line within {timeout} ({state}); output:\n{Output}");
    }

    /// <summary>The exit code; throws with the output if still running after <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) throw new TimeoutException($"[{Name}] still running after {timeout}; output:\n{Output}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { }
    }

    public void Dispose()
    {
        Kill();
        try { _process.WaitForExit(5000); } catch (InvalidOperationException) { } // already gone
        _process.Dispose();
    }

    private void Collect(string? line, ConcurrentQueue<string> stream)
    {
        if (line is null) return;
        lock (_lines) // one lock keeps both views in the same order
        {
            stream.Enqueue(line);
            _lines.Enqueue(line);
        }
    }
}
