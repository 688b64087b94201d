using System.Diagnostics;

namespace Actors.Benchmarks.Processes;

/// <summary>
/// A process we started. Keeps the last lines of its output (servers can be chatty, and we only
/// need the tail to explain a failure) and kills its whole tree when disposed, because nginx and
/// `dotnet` both fork children that would otherwise outlive the benchmark and hold the port.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly OutputTail _stdout;
    private readonly OutputTail _stderr;
    private int _disposed;

    private ChildProcess(string name, Process process, int keepLines)
    {
        Name = name;
        _process = process;
        _stdout = new OutputTail(keepLines);
        _stderr = new OutputTail(keepLines);
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string StandardOutput => _stdout.Text;

    public string StandardError => _stderr.Text;

    /// <summary>Both streams' tails, for error messages.</summary>
    public string RecentOutput => string.Join(Environment.NewLine,
        new[] { _stdout.Text, _stderr.Text }.Where(t => t.Length > 0));

    public static ChildProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        int keepLines = 200)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // so a child never reads our console (and Ctrl-C stays ours)
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, keepLines);
        process.OutputDataReceived += (_, e) => child._stdout.Add(e.Data);
        process.ErrorDataReceived += (_, e) => child._stderr.Add(e.Data);
        process.Start();
        Cleanup.Register(child);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for exit (and for the output to be drained); kills the tree on timeout or cancel.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(timeoutSource.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            Kill();
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    /// <summary>Writes a line to the process's standard input (a caller reads commands there).</summary>
    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Kill();
        _process.Dispose();
        Cleanup.Unregister(this);
    }

    /// <summary>A bounded, thread-safe tail of output lines.</summary>
    private sealed class OutputTail(int capacity)
    {
        private readonly Queue<string> _lines = new();

        public string Text
        {
            get
            {
                lock (_lines)
                {
                    return string.Join(Environment.NewLine, _lines);
                }
            }
        }

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > capacity)
                {
                    _lines.Dequeue();
                }
            }
        }
    }
}
