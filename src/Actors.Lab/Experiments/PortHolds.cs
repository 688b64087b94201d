using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Actors.Lab.Experiments;

/// <summary>
/// The <c>hold-port</c> fault: the runner itself listens on a node's service port (on 127.0.0.1,
/// where the scenario's nodes listen), so the node's next start finds it taken, as a user's
/// process that grabbed the port would. That is a failure no restart can cure, so the failure
/// policy must act: the role escalates it and the process prints one line and exits 1 (pattern 2
/// of docs/PATTERNS.md). The <c>release-ports</c> rollback and the end of the run release them.
/// Used by the runner's one sequence only (not thread-safe).
/// </summary>
public sealed class PortHolds : IDisposable
{
    private readonly Dictionary<string, (TcpListener Listener, int Port, int PidThen)> _held = new(StringComparer.Ordinal);

    /// <summary>The nodes whose port is held now.</summary>
    public IReadOnlyCollection<string> Nodes => _held.Keys;

    /// <summary>The node's pid when its port was taken (its manifest's), to tell a process started since.</summary>
    public int PidThen(string node) => _held.TryGetValue(node, out var h) ? h.PidThen : 0;

    /// <summary>
    /// Listens on 127.0.0.1:<paramref name="port"/> for <paramref name="node"/>. A process that
    /// was just killed may hold it a little longer, so a port in use is tried again every 100 ms
    /// until <paramref name="within"/>; then refused (the node still runs: kill it first).
    /// </summary>
    public async Task<(bool Ok, string Answer)> Hold(string node, int port, int pidThen, TimeSpan within, CancellationToken cancel)
    {
        if (_held.ContainsKey(node)) return (false, $"{node}'s port is already held");
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start(backlog: 1);
                _held[node] = (listener, port, pidThen);
                return (true, $"the runner listens on 127.0.0.1:{port}, {node}'s port");
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                listener.Stop();
                if (watch.Elapsed >= within) return (false, $"127.0.0.1:{port} still in use after {within.TotalSeconds:F0} s: {node} still runs (kill it first)");
                await Task.Delay(100, cancel);
            }
        }
    }

    /// <summary>Stops listening on the node's port; its text, or null when none was held.</summary>
    public string? Release(string node)
    {
        if (!_held.Remove(node, out var held)) return null;
        held.Listener.Stop();
        return $"released 127.0.0.1:{held.Port}, {node}'s port";
    }

    public void Dispose()
    {
        foreach (var node in _held.Keys.ToList()) Release(node);
    }
}
