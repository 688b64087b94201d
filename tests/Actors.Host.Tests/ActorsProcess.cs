using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace Actors.Host.Tests;

/// <summary>
/// The real <c>actors</c> binary run as a child process, its output collected line by line.
/// Disposing kills it (and its children) if it is still running, so no test leaves one behind.
/// </summary>
public sealed class ActorsProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    public static string ActorsDll => Path.Combine(AppContext.BaseDirectory, "actors.dll");

    public ActorsProcess(params string[] args) : this(null, args) { }

    public ActorsProcess(IDictionary<string, string>? environment, params string[] args)
    {
        // Through `env --default-signal=INT`: a test run started in the background inherits SIGINT
        // as ignored, and .NET keeps an inherited ignore, so the node's Ctrl-C handling could not be tested.
        var start = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { "--default-signal=INT", "dotnet", ActorsDll }) start.ArgumentList.Add(arg);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;
    public IReadOnlyCollection<string> Lines => _lines.ToArray();
    public string Output => string.Join('\n', _lines);

    public async Task<string> WaitForLine(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var match = _lines.FirstOrDefault(predicate);
            if (match is not null) return match;
            if (_process.HasExited) { await Task.Delay(200); match = _lines.FirstOrDefault(predicate); if (match is not null) return match; break; }
            await Task.Delay(50);
        }
        throw new TimeoutException($"no matching line within {timeout}; output so far:\n{Output}");
    }

    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"still running after {timeout}; output:\n{Output}"); }
        _process.WaitForExit(); // flush the output events
        return _process.ExitCode;
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", $"-{signal} {_process.Id}");
        kill.WaitForExit();
    }

    /// <summary>Resident memory of the process in bytes, from /proc (Linux).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitForPort(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        throw new TimeoutException($"port {port} did not open within {timeout}");
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
