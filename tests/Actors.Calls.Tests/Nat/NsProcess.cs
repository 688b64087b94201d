using System.Collections.Concurrent;
using System.Diagnostics;

namespace Actors.Calls.Tests.Nat;

/// <summary>
/// A process run inside a network namespace (<c>ip netns exec</c> execs it, so the pid is the
/// program's own), its output collected line by line. Disposing kills it if still running.
/// </summary>
public sealed class NsProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _stdout = new();

    public static string ActorsDll => Path.Combine(AppContext.BaseDirectory, "actors.dll");

    public static NsProcess Actors(string? ns, params string[] args) => new(ns, ["dotnet", ActorsDll, .. args]);

    /// <param name="ns">null: run in the current namespace.</param>
    public NsProcess(string? ns, IReadOnlyList<string> command)
    {
        var start = new ProcessStartInfo(ns is null ? command[0] : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var args = ns is null ? command.Skip(1) : new[] { "netns", "exec", ns }.Concat(command);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _lines.Enqueue(e.Data); _stdout.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Name = $"{ns ?? "local"}: {string.Join(' ', command.Skip(command[0] == "dotnet" ? 2 : 0))}";
    }

    public string Name { get; }
    /// <summary>stdout and stderr, interleaved as they arrived.</summary>
    public IReadOnlyCollection<string> Lines => _lines.ToArray();
    /// <summary>stdout alone: what the command documents, never logs.</summary>
    public IReadOnlyCollection<string> StdoutLines => _stdout.ToArray();
    public string Output => string.Join('\n', _lines);
    public bool HasExited => _process.HasExited;

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public string WaitForLine(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var match = _lines.FirstOrDefault(predicate);
            if (match is not null) return match;
            if (_process.HasExited)
            {
                // The parameterless wait also waits for the redirected output to be fully read:
                // the last lines (the JSON report) can still be in flight when the process is gone.
                _process.WaitForExit();
                match = _lines.FirstOrDefault(predicate);
                if (match is not null) return match;
                break;
            }
            Thread.Sleep(50);
        }
        var state = _process.HasExited ? $"exited with {_process.ExitCode}" : "still running";
        throw new TimeoutException($"[{Name}] no matching line within {timeout} ({state}); output:\n{Output}");
    }

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
}
