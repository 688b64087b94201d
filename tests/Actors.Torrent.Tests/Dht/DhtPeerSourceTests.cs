using System.Net;
using Actors.Torrent.Dht;
using Actors.Torrent.Peer.Announce;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;

namespace Actors.Torrent.Tests.Dht;

/// <summary>The seam between a torrent and the DHT: peers found through the DHT reach the torrent as PeersDiscovered.</summary>
public sealed class DhtPeerSourceTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private IPEndPoint StartNode(IPEndPoint[] bootstrap, out IActorRef node)
    {
        var probe = CreateTestProbe();
        DatagramMailbox.Ensure(Sys);
        node = Sys.ActorOf(DhtNode.Props(new DhtSettings
        {
            Host = IPAddress.Loopback,
            Bootstrap = bootstrap,
            QueryTimeout = TimeSpan.FromMilliseconds(800),
            MaintenanceInterval = TimeSpan.FromSeconds(1),
        }, probe.Ref));
        return probe.ExpectMsg<DhtNodeStarted>(Wait).EndPoint;
    }

    [Fact]
    public void A_seeder_and_a_leecher_find_each_other_through_the_DHT_and_never_themselves()
    {
        var first = StartNode([], out _);
        var nodes = Enumerable.Range(0, 6).Select(_ => { StartNode([first], out var n); return n; }).ToList();
        StartNode([first], out var seederNode);
        StartNode([first], out var leecherNode);
        var hash = NodeId.Random();

        var seeder = CreateTestProbe();
        var leecher = CreateTestProbe();
        Sys.ActorOf(DhtPeerSource.Props(new DhtPeerSourceSettings(hash, 6001) { Interval = TimeSpan.FromSeconds(1) }, seederNode, seeder.Ref));
        Sys.ActorOf(DhtPeerSource.Props(new DhtPeerSourceSettings(hash, 6002) { Interval = TimeSpan.FromSeconds(1) }, leecherNode, leecher.Ref));

        var found = leecher.FishForMessage<Announcer.PeersDiscovered>(d => d.Peers.Contains(new IPEndPoint(IPAddress.Loopback, 6001)), Wait);
        Assert.DoesNotContain(new IPEndPoint(IPAddress.Loopback, 6002), found.Peers);
        var back = seeder.FishForMessage<Announcer.PeersDiscovered>(d => d.Peers.Contains(new IPEndPoint(IPAddress.Loopback, 6002)), Wait);
        Assert.DoesNotContain(new IPEndPoint(IPAddress.Loopback, 6001), back.Peers);
    }
}
