using System.Net;
using Actors.Torrent.Bencode;
using Actors.Torrent.Tracker;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>Two actor systems on loopback forming one cluster, each with its own tracker.</summary>
public sealed class TwoNodeSwarmTests : TestKit
{
    public TwoNodeSwarmTests() : base(TrackerActorTests.NodeConfig(), "actors") { }

    [Fact]
    public void An_announce_to_node_B_returns_the_peer_that_announced_to_node_A()
    {
        var systemB = ActorSystem.Create("actors", TrackerActorTests.NodeConfig());
        try
        {
            var a = Cluster.Get(Sys);
            a.Join(a.SelfAddress);
            Cluster.Get(systemB).Join(a.SelfAddress);
            AwaitCondition(() => a.State.Members.Count(m => m.Status == MemberStatus.Up) == 2, TimeSpan.FromSeconds(15));

            var settings = TrackerActorTests.Settings();
            var trackerA = Start(Sys, settings);
            var trackerB = Start(systemB, settings);

            var fromA = Announce(trackerA, TrackerActorTests.Query("on-a", 6001, "&left=0"), "10.0.0.1");
            Assert.Empty(fromA.Get<BString>("peers")!.Bytes.ToArray());

            // Whichever node owns the swarm, B's announce reaches it (forwarded once if needed);
            // AwaitAssert covers the moment the two registries are still greeting each other.
            AwaitAssert(() =>
            {
                var fromB = Announce(trackerB, TrackerActorTests.Query("on-b", 6002, "&left=1"), "10.0.0.2");
                Assert.Equal(new byte[] { 10, 0, 0, 1, 0x17, 0x71 }, fromB.Get<BString>("peers")!.Bytes.ToArray());
                Assert.Equal(1, fromB.GetInteger("complete"));
            }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));

            // And A now sees B's peer.
            var again = Announce(trackerA, TrackerActorTests.Query("on-a", 6001, "&left=0"), "10.0.0.1");
            Assert.Equal(new byte[] { 10, 0, 0, 2, 0x17, 0x72 }, again.Get<BString>("peers")!.Bytes.ToArray());

            // A stopped announce on A is gone for B too (one owner per swarm).
            Announce(trackerA, TrackerActorTests.Query("on-a", 6001, "&left=0&event=stopped"), "10.0.0.1");
            AwaitAssert(() =>
            {
                var fromB = Announce(trackerB, TrackerActorTests.Query("on-b", 6002, "&left=1"), "10.0.0.2");
                Assert.Empty(fromB.Get<BString>("peers")!.Bytes.ToArray());
                Assert.Equal(0, fromB.GetInteger("complete"));
            }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
        }
        finally
        {
            Shutdown(systemB);
        }
    }

    private static IActorRef Start(ActorSystem system, TrackerSettings settings)
    {
        var registry = system.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        return system.ActorOf(EndpointConnections.Props(new TrackerHttp(settings, registry)), "tracker");
    }

    private BDictionary Announce(IActorRef tracker, string query, string remote)
    {
        var request = new HttpRequest("GET", "/announce?" + query, Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []);
        tracker.Tell(new HttpRequestReceived(request, new IPEndPoint(IPAddress.Parse(remote), 1)), TestActor);
        return (BDictionary)BencodeDecoder.Decode(ExpectMsg<HttpReply>(TimeSpan.FromSeconds(5)).Body);
    }
}
