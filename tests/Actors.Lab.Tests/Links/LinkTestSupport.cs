using Xunit;
using System.Net;
using System.Net.Sockets;

namespace Actors.Lab.Tests.Links;

/// <summary>A plain-socket TCP server on loopback (the proxied "target"); every accepted socket runs <c>handler</c> on its own task. Disposing closes everything it opened.</summary>
internal sealed class TargetServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _accepted = [];
    private int _acceptedCount;

    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";
    public int Accepted => Volatile.Read(ref _acceptedCount);

    public TargetServer(Func<Socket, CancellationToken, Task> handler)
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception) { return; }
                lock (_accepted) _accepted.Add(socket);
                Interlocked.Increment(ref _acceptedCount);
                _ = Task.Run(async () =>
                {
                    try { await handler(socket, _stop.Token); }
                    catch (Exception) { /* the test sees the effect on its own side */ }
                });
            }
        });
    }

    /// <summary>Echoes every byte back until the client closes.</summary>
    public static TargetServer Echo() => new(async (socket, ct) =>
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) { socket.Shutdown(SocketShutdown.Send); return; }
            await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, ct);
        }
    });

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_accepted)
            foreach (var socket in _accepted) socket.Dispose();
    }
}

internal static class Net
{
    public static Socket Connect(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000 };
        socket.Connect(IPAddress.Parse(endpoint[..colon]), int.Parse(endpoint[(colon + 1)..]));
        return socket;
    }

    /// <summary>Reads until the peer closes (returns the bytes) — or throws the SocketException of a reset or of the 10 s receive timeout.</summary>
    public static byte[] ReadToEnd(Socket socket)
    {
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = socket.Receive(buffer)) > 0) all.Write(buffer, 0, n);
        return all.ToArray();
    }

    public static byte[] ReadExactly(Socket socket, int count)
    {
        var data = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = socket.Receive(data, read, count - read, SocketFlags.None);
            if (n == 0) throw new EndOfStreamException($"closed after {read} of {count} bytes");
            read += n;
        }
        return data;
    }

    public static byte[] Random(int count, int seed)
    {
        var data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>One byte there and back through an echo; the round-trip time.</summary>
    public static TimeSpan RoundTrip(Socket socket)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        socket.Send([42]);
        var reply = ReadExactly(socket, 1);
        Assert.Equal(42, reply[0]);
        return started.Elapsed;
    }
}
