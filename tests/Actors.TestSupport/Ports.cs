using System.Net;
using System.Net.Sockets;

namespace Actors.TestSupport;

/// <summary>Loopback ports for tests.</summary>
public static class Ports
{
    // Ports are picked below Linux's ephemeral range, which the OS hands to every socket bound to
    // port 0 (each outgoing connection, each UDP client). A port picked from inside that range is
    // free only until the process that will bind it starts: meanwhile, or while a killed node
    // restarts on its ports, any such socket of a test running in parallel may take it. A tracker
    // also binds its HTTP port's number for UDP (BEP 15), so a pick must be free for both.
    private const int LowestPick = 10_000;
    private static readonly object Gate = new();
    private static readonly HashSet<int> HandedOut = [];
    private static readonly (int Low, int High)? PickRange = BelowEphemeralRange();

    /// <summary>
    /// A port on 127.0.0.1 free for TCP and UDP a moment ago, below the ephemeral range, never
    /// handed out twice by this process (test projects run one at a time, so only this process's
    /// tests and the nodes they start bind such ports).
    /// </summary>
    public static int Free()
    {
        if (PickRange is not var (low, high)) return EphemeralPort();
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(low, high + 1);
                if (HandedOut.Contains(port) || !FreeForTcpAndUdp(port)) continue;
                HandedOut.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"no free port between {low} and {high} after 1,000 tries");
    }

    /// <summary>
    /// For the tests of <see cref="Free"/>: binds UDP on every port of [low, high] not handed out
    /// yet, so that no pick can return them while held. Ports already handed out are left alone: a
    /// node of a test running in parallel may be about to bind them.
    /// </summary>
    public static IReadOnlyList<UdpClient> HoldUdpOnPortsNotHandedOut(int low, int high)
    {
        var held = new List<UdpClient>();
        lock (Gate)
        {
            for (var port = low; port <= high; port++)
            {
                if (HandedOut.Contains(port)) continue;
                try { held.Add(new UdpClient(new IPEndPoint(IPAddress.Loopback, port))); }
                catch (SocketException) { } // taken already: not pickable either
            }
        }
        return held;
    }

    private static (int, int)? BelowEphemeralRange()
    {
        try
        {
            // "32768\t60999" on Debian; below it down to LowestPick, if that leaves room.
            var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0]);
            return ephemeralLow - LowestPick >= 2_000 ? (LowestPick, ephemeralLow - 1) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // not Linux: the OS's pick, as before
        }
    }

    private static bool FreeForTcpAndUdp(int port)
    {
        try
        {
            using var tcp = new TcpListener(IPAddress.Loopback, port);
            tcp.Start();
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int EphemeralPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts connections on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task WaitForListener(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        throw new TimeoutException($"port {port} did not open within {timeout}");
    }

    /// <inheritdoc cref="WaitForListener"/>
    public static void WaitForListenerSync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        throw new TimeoutException($"nothing listens on {port}");
    }
}
