using System.Net;
using Actors.Torrent.Bencode;
using Actors.Torrent.Tracker;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>The tracker's HTTP endpoint (<see cref="TrackerHttp"/>) and SwarmRegistry in a one-node cluster, driven by HttpRequestReceived.</summary>
public sealed class TrackerActorTests : TestKit
{
    public static Config NodeConfig(string extra = "") => ConfigurationFactory.ParseString($$"""
        akka.actor.provider = cluster
        akka.remote.dot-netty.tcp.hostname = 127.0.0.1
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = WARNING
        akka.actor.serialize-messages = off
        {{TrackerWireSerializer.Hocon}}
        {{Actors.Torrent.Tracker.Udp.UdpTracker.Hocon}}
        {{extra}}
        """);

    public static TrackerSettings Settings(TimeSpan? expiry = null) => TrackerSettings.Default with
    {
        Interval = TimeSpan.FromSeconds(1),
        MinInterval = TimeSpan.FromSeconds(1),
        PeerExpiry = expiry ?? TimeSpan.FromMinutes(10),
        PruneInterval = TimeSpan.FromMilliseconds(200),
    };

    public TrackerActorTests() : base(NodeConfig()) { }

    private IActorRef StartTracker(TrackerSettings settings)
    {
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => Cluster.Get(Sys).State.Members.Any(m => m.Status == MemberStatus.Up), TimeSpan.FromSeconds(10));
        var registry = Sys.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        return Sys.ActorOf(EndpointConnections.Props(new TrackerHttp(settings, registry)), "tracker");
    }

    public static readonly byte[] Hash = Enumerable.Range(0, 20).Select(i => (byte)(0xF0 ^ i)).ToArray();

    public static string Query(string peer, int port, string extra = "", byte[]? hash = null) =>
        $"info_hash={TrackerQuery.Encode(hash ?? Hash)}&peer_id={TrackerQuery.Encode(System.Text.Encoding.ASCII.GetBytes(peer.PadRight(20, '-')))}&port={port}&uploaded=0&downloaded=0{extra}";

    private BDictionary Get(IActorRef tracker, string target, string remote = "127.0.0.1")
    {
        var request = new HttpRequest("GET", target, Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []);
        tracker.Tell(new HttpRequestReceived(request, new IPEndPoint(IPAddress.Parse(remote), 50000)));
        var reply = ExpectMsg<HttpReply>(TimeSpan.FromSeconds(5));
        Assert.Equal(200, reply.Status);
        return (BDictionary)BencodeDecoder.Decode(reply.Body);
    }

    private static List<(IPAddress Ip, int Port)> CompactPeers(BDictionary answer)
    {
        var bytes = answer.Get<BString>("peers")!.Bytes.ToArray();
        return Enumerable.Range(0, bytes.Length / 6)
            .Select(i => (new IPAddress(bytes.AsSpan(i * 6, 4)), bytes[i * 6 + 4] << 8 | bytes[i * 6 + 5])).ToList();
    }

    [Fact]
    public void Announce_returns_the_other_peers_compactly_but_never_the_asker()
    {
        var tracker = StartTracker(Settings());
        var first = Get(tracker, "/announce?" + Query("seeder", 6001, "&left=0&event=started"));
        Assert.Empty(CompactPeers(first));
        Assert.Equal(1, first.GetInteger("complete"));

        var second = Get(tracker, "/announce?" + Query("leecher", 6002, "&left=5&event=started"), "10.0.0.2");
        Assert.Equal([(IPAddress.Loopback, 6001)], CompactPeers(second));
        Assert.Equal(1, second.GetInteger("complete"));
        Assert.Equal(1, second.GetInteger("incomplete"));
        Assert.Equal(1, second.GetInteger("interval"));
    }

    [Fact]
    public void Dictionary_model_names_peer_ids_and_a_bad_request_gets_a_failure_reason()
    {
        var tracker = StartTracker(Settings());
        Get(tracker, "/announce?" + Query("alpha", 7001, "&left=1"));
        var answer = Get(tracker, "/announce?" + Query("beta", 7002, "&left=1&compact=0"));
        var peer = (BDictionary)Assert.Single(answer.GetList("peers")!.Items);
        Assert.Equal("alpha".PadRight(20, '-'), peer.GetText("peer id"));
        Assert.Equal(7001, peer.GetInteger("port"));

        var failure = Get(tracker, "/announce?info_hash=short&peer_id=x&port=1");
        Assert.Equal("info_hash must be 20 bytes", failure.GetText("failure reason"));
    }

    [Fact]
    public void Stopped_removes_the_peer_and_completed_counts_as_a_download()
    {
        var tracker = StartTracker(Settings());
        Get(tracker, "/announce?" + Query("one", 8001, "&left=10&event=started"));
        Get(tracker, "/announce?" + Query("one", 8001, "&left=0&event=completed"));
        Get(tracker, "/announce?" + Query("two", 8002, "&left=10&event=started"));
        var stopped = Get(tracker, "/announce?" + Query("two", 8002, "&left=10&event=stopped"));
        Assert.Equal(0, stopped.GetInteger("incomplete"));

        var third = Get(tracker, "/announce?" + Query("three", 8003, "&left=10"));
        Assert.Equal([(IPAddress.Loopback, 8001)], CompactPeers(third));

        AwaitAssert(() =>
        {
            var scrape = Get(tracker, "/scrape?info_hash=" + TrackerQuery.Encode(Hash));
            var file = (BDictionary)scrape.GetDictionary("files")!.Entries.Single().Value;
            Assert.Equal(1, file.GetInteger("complete"));
            Assert.Equal(1, file.GetInteger("incomplete"));
            Assert.Equal(1, file.GetInteger("downloaded"));
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));

        // A scrape without info_hash lists every swarm; an unknown swarm is all zeroes.
        Assert.Single(Get(tracker, "/scrape").GetDictionary("files")!.Entries);
        var unknown = Get(tracker, "/scrape?info_hash=" + TrackerQuery.Encode(new byte[20]));
        Assert.Equal(0, ((BDictionary)unknown.GetDictionary("files")!.Entries.Single().Value).GetInteger("complete"));
    }

    [Fact]
    public void Peers_that_stop_announcing_expire()
    {
        var tracker = StartTracker(Settings(expiry: TimeSpan.FromSeconds(1)));
        Get(tracker, "/announce?" + Query("quiet", 9001, "&left=1"));
        Assert.Single(CompactPeers(Get(tracker, "/announce?" + Query("chatty", 9002, "&left=1"))));
        AwaitAssert(() =>
        {
            var answer = Get(tracker, "/announce?" + Query("chatty", 9002, "&left=1"));
            Assert.Empty(CompactPeers(answer));
            Assert.Equal(1, answer.GetInteger("incomplete"));
        }, TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void Numwant_limits_the_peers_handed_out()
    {
        var tracker = StartTracker(Settings());
        for (var i = 0; i < 30; i++) Get(tracker, "/announce?" + Query($"p{i}", 10000 + i, "&left=1"));
        Assert.Equal(5, CompactPeers(Get(tracker, "/announce?" + Query("asker", 11000, "&left=1&numwant=5"))).Count);
        Assert.Equal(30, CompactPeers(Get(tracker, "/announce?" + Query("asker", 11000, "&left=1&numwant=100"))).Count);
    }
}
