using System.Net;
using System.Net.Sockets;
using Actors.TestSupport;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// The ports tests hand to the nodes they start: below the OS's ephemeral range (so no socket
/// bound to port 0 in a parallel test can take one between the pick and the node's bind, or while
/// a killed node restarts), free for TCP and UDP (a tracker binds its HTTP port's number for UDP),
/// and never the same twice.
/// </summary>
public sealed class TestPortsTests
{
    [Fact]
    public void Picks_are_distinct_below_the_ephemeral_range_and_bindable_for_tcp_and_udp()
    {
        // Linux only, as the whole suite (namespaces, /proc).
        var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0]);

        var picks = Enumerable.Range(0, 200).Select(_ => Ports.Free()).ToList();

        Assert.Equal(picks.Count, picks.Distinct().Count());
        Assert.All(picks, port => Assert.InRange(port, 1024, ephemeralLow - 1));
        foreach (var port in picks.Take(20))
        {
            using var tcp = new TcpListener(IPAddress.Loopback, port);
            tcp.Start();
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
        }
    }

    [Fact]
    public void A_port_taken_for_udp_only_is_not_picked()
    {
        // Hold UDP on 2,000 ports of the pick range (those no test was handed); none may come back.
        var held = Ports.HoldUdpOnPortsNotHandedOut(10_000, 11_999);
        try
        {
            var heldPorts = held.Select(c => ((IPEndPoint)c.Client.LocalEndPoint!).Port).ToHashSet();
            Assert.True(heldPorts.Count > 1_000, $"only {heldPorts.Count} ports could be held");
            var picks = Enumerable.Range(0, 300).Select(_ => Ports.Free()).ToList();
            Assert.DoesNotContain(picks, heldPorts.Contains);
        }
        finally
        {
            foreach (var client in held) client.Dispose();
        }
    }
}
