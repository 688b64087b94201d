using System.Collections.Concurrent;
using System.Diagnostics;

namespace Actors.TestSupport;

/// <summary>What a process that ran to completion left: its exit code and each stream's text.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public string Output => Stdout + Stderr;
}

/// <summary>
/// A child process with its output collected line by line: <see cref="Lines"/> has both streams
/// in arrival order, <see cref="StdoutLines"/> and <see cref="StderrLines"/> each one alone (our
/// commands promise that stdout carries only their documented output). Disposing kills it, and
/// its children, if it is still running: no test leaves one behind.
/// </summary>
public sealed class ProcessRunner : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    /// <param name="file">The program; a missing one fails with the package to install.</param>
    /// <param name="drain">Read and drop the output instead of keeping it (chatty tools with log files).</param>
    public ProcessRunner(string file, IEnumerable<string> args, string? workingDirectory = null,
        IDictionary<string, string>? environment = null, string? name = null, bool drain = false)
    {
        Tools.Require(file);
        // Through `env --default-signal=INT` (which execs the program, so the pid is the program's):
        // a test run started in the background inherits SIGINT as ignored, and .NET keeps an
        // inherited ignore, so a node's Ctrl-C handling could not be tested.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        var argList = args.ToList();
        foreach (var arg in (string[])["--default-signal=INT", file, .. argList]) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        Name = name ?? $"{file} {string.Join(' ', argList)}";
        _process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        if (drain)
        {
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
        }
        else
        {
            _process.OutputDataReceived += (_, e) => Collect(e.Data, _stdout);
            _process.ErrorDataReceived += (_, e) => Collect(e.Data, _stderr);
        }
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>The underlying process, for callers that wait on it themselves.</summary>
    public Process Process => _process;

    /// <summary>Every line of stdout and stderr, in arrival order.</summary>
    public IReadOnlyCollection<string> Lines => _lines.ToArray();
    public IReadOnlyCollection<string> StdoutLines => _stdout.ToArray();
    public IReadOnlyCollection<string> StderrLines => _stderr.ToArray();
    public string Output => string.Join('\n', _lines);

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>The first line (either stream) that matches; throws with the output so far after <paramref name="timeout"/>.</summary>
    public string WaitForLine(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (TryFind(predicate, out var match)) return match;
            if (_process.HasExited) return AfterExit(predicate, timeout);
            Thread.Sleep(50);
        }
        throw NoLine(timeout);
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (TryFind(predicate, out var match)) return match;
            if (_process.HasExited) return AfterExit(predicate, timeout);
            await Task.Delay(50);
        }
        throw NoLine(timeout);
    }

    /// <summary>The exit code; throws with the output if still running after <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) throw new TimeoutException($"[{Name}] still running after {timeout}; output:\n{Output}");
        _process.WaitForExit(); // the parameterless wait also drains the redirected output
        return _process.ExitCode;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"[{Name}] still running after {timeout}; output:\n{Output}"); }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends a signal by name (TERM, INT, KILL, STOP, CONT).</summary>
    public void Signal(string signal)
    {
        // Once it has exited (and .NET reaped it) its pid may be another process's.
        if (_process.HasExited) return;
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
    }

    /// <summary>Resident memory of the process in bytes, from /proc (Linux).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS");
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

    /// <summary>
    /// Runs <paramref name="file"/> to completion with no input and returns each stream's text exactly
    /// as printed (not split into lines); kills it after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        using var process = StartToCompletion(file, args, workingDirectory, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        var timedOut = false;
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            timedOut = true;
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync();
        }
        return new ProcessResult(timedOut ? -1 : process.ExitCode, await stdout, await stderr, timedOut);
    }

    /// <inheritdoc cref="RunAsync"/>
    public static ProcessResult Run(string file, IEnumerable<string> args, TimeSpan timeout,
        string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        using var process = StartToCompletion(file, args, workingDirectory, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var timedOut = !process.WaitForExit(timeout);
        if (timedOut)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        process.WaitForExit();
        Task.WaitAll(stdout, stderr);
        return new ProcessResult(timedOut ? -1 : process.ExitCode, stdout.Result, stderr.Result, timedOut);
    }

    private static Process StartToCompletion(string file, IEnumerable<string> args, string? workingDirectory, IDictionary<string, string>? environment)
    {
        Tools.Require(file);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        process.StandardInput.Close();
        return process;
    }

    private void Collect(string? line, ConcurrentQueue<string> stream)
    {
        if (line is null) return;
        // One lock keeps both views in the same order.
        lock (_lines)
        {
            stream.Enqueue(line);
            _lines.Enqueue(line);
        }
    }

    private bool TryFind(Func<string, bool> predicate, out string match)
    {
        match = _lines.FirstOrDefault(predicate)!;
        return match is not null;
    }

    private string AfterExit(Func<string, bool> predicate, TimeSpan timeout)
    {
        // The last lines (a JSON report, say) can still be in flight when the process is gone.
        _process.WaitForExit();
        if (TryFind(predicate, out var match)) return match;
        throw NoLine(timeout);
    }

    private TimeoutException NoLine(TimeSpan timeout)
    {
        var state = _process.HasExited ? $"exited with {_process.ExitCode}" : "still running";
        return new TimeoutException($"[{Name}] no matching line within {timeout} ({state}); output:\n{Output}");
    }
}
