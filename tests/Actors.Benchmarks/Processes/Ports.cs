using System.Net;
using System.Net.Sockets;

namespace Actors.Benchmarks.Processes;

/// <summary>Loopback ports: picking a free one and waiting until a started server listens on it.</summary>
public static class Ports
{
    /// <summary>
    /// Asks the OS for a free port. There is a small race until the server binds it, acceptable
    /// here; a fixed port would collide with other engineers' runs on the shared machine.
    /// </summary>
    public static int FindFree()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>
    /// Polls until the port accepts a connection. Returns null when ready, otherwise why not:
    /// the process exited (e.g. an unknown sub-command) or the bounded wait ran out.
    /// </summary>
    public static async Task<string?> WaitUntilListeningAsync(
        int port, ChildProcess process, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                return $"exited with code {process.ExitCode} before port {port} opened";
            }
            if (await CanConnectAsync(port, cancellationToken))
            {
                return null;
            }
            await Task.Delay(100, cancellationToken);
        }
        return $"port {port} did not open within {timeout.TotalSeconds:0} s";
    }

    private static async Task<bool> CanConnectAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
