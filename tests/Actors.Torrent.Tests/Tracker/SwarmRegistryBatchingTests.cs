using System.Net;
using Actors.Torrent.Bencode;
using Actors.Torrent.Tracker;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;
using Akka.DistributedData;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// The registry's write batching against a probe standing in for the replicator, so the test
/// decides when a write completes.
/// </summary>
public sealed class SwarmRegistryBatchingTests : TestKit
{
    private readonly TestProbe _replicator;

    public SwarmRegistryBatchingTests() : base(TrackerActorTests.NodeConfig())
    {
        _replicator = CreateTestProbe();
    }

    private const string InfoHash = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00010203";

    private static AnnounceRequest Request(int peer, AnnounceEvent announceEvent = AnnounceEvent.None) =>
        new(InfoHash, $"{peer:x40}", IPAddress.Parse($"10.0.{peer / 250}.{peer % 250 + 1}"), 6000 + peer, 0, 0, 1,
            announceEvent, Compact: true, NoPeerId: false, NumWant: 50, Key: null, TrackerId: null);

    private IActorRef StartRegistry(TrackerSettings settings) =>
        Sys.ActorOf(SwarmRegistry.Props(settings, _replicator.Ref));

    /// <summary>The next peers Update sent to the replicator (subscriptions and other keys skipped).</summary>
    private Update ExpectPeersUpdate() =>
        (Update)_replicator.FishForMessage(m => m is Update u && u.Key.Id.StartsWith("tracker-peers-"), TimeSpan.FromSeconds(3));

    private void ExpectNoPeersUpdate(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            var message = _replicator.ReceiveOne(deadline - DateTime.UtcNow);
            Assert.False(message is Update u && u.Key.Id.StartsWith("tracker-peers-"), "unexpected peers update");
        }
    }

    private static int EntriesWrittenBy(Update update) =>
        ((LWWDictionary<string, PeerEntry>)update.Modify(LWWDictionary<string, PeerEntry>.Empty)).Count;

    [Fact]
    public void Announces_arriving_within_the_window_are_one_update_and_answered_only_after_it()
    {
        var registry = StartRegistry(TrackerActorTests.Settings() with { WriteBatchWindow = TimeSpan.FromMilliseconds(300) });
        for (var i = 0; i < 20; i++) registry.Tell(new Announce(Request(i)));

        var update = ExpectPeersUpdate();
        Assert.Equal(20, EntriesWrittenBy(update));
        Assert.IsType<WriteMajority>(update.Consistency);
        // Nobody is answered before the batch is on a majority, and the batch is one write.
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        ExpectNoPeersUpdate(TimeSpan.FromMilliseconds(100));

        registry.Tell(new UpdateSuccess(update.Key, update.Request));
        var answers = Enumerable.Range(0, 20).Select(_ => ExpectMsg<Announced>()).ToList();
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Request(i).PeerId).Order(), answers.Select(a => a.Request.PeerId).Order());
        Assert.All(answers, a => Assert.Equal(19, a.Peers.Count));
        Assert.All(answers, a => Assert.Equal(20, a.Incomplete));
    }

    [Fact]
    public void Announces_arriving_while_a_write_is_in_flight_form_the_next_batch()
    {
        var registry = StartRegistry(TrackerActorTests.Settings());
        registry.Tell(new Announce(Request(0)));
        var first = ExpectPeersUpdate();
        Assert.Equal(1, EntriesWrittenBy(first));

        for (var i = 1; i <= 10; i++) registry.Tell(new Announce(Request(i)));
        ExpectNoPeersUpdate(TimeSpan.FromMilliseconds(300));
        ExpectNoMsg(TimeSpan.Zero);

        // A timed-out majority write is still applied locally: its announces are answered too.
        registry.Tell(new UpdateTimeout(first.Key, first.Request));
        Assert.Equal(Request(0).PeerId, ExpectMsg<Announced>().Request.PeerId);
        var second = ExpectPeersUpdate();
        Assert.Equal(10, EntriesWrittenBy(second));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        registry.Tell(new UpdateSuccess(second.Key, second.Request));
        for (var i = 1; i <= 10; i++) Assert.Equal(10, ExpectMsg<Announced>().Peers.Count);
    }

    [Fact]
    public void With_write_local_announces_are_answered_before_their_write_completes()
    {
        var registry = StartRegistry(TrackerActorTests.Settings() with { WriteMajority = false });
        registry.Tell(new Announce(Request(1)));
        registry.Tell(new Announce(Request(2)));
        Assert.Empty(ExpectMsg<Announced>().Peers);
        Assert.Single(ExpectMsg<Announced>().Peers);
        Assert.IsType<WriteLocal>(ExpectPeersUpdate().Consistency);
    }

    [Fact]
    public void A_stopped_announce_in_a_batch_removes_the_peer_from_the_write_and_the_answers()
    {
        var registry = StartRegistry(TrackerActorTests.Settings() with { WriteBatchWindow = TimeSpan.FromMilliseconds(200), WriteMajority = false });
        registry.Tell(new Announce(Request(1)));
        registry.Tell(new Announce(Request(2)));
        registry.Tell(new Announce(Request(2, AnnounceEvent.Stopped)));
        ExpectMsg<Announced>();
        Assert.Single(ExpectMsg<Announced>().Peers);
        var stopped = ExpectMsg<Announced>();
        Assert.Empty(stopped.Peers);
        Assert.Equal(1, stopped.Incomplete);
        Assert.Equal(1, EntriesWrittenBy(ExpectPeersUpdate()));
    }

    [Fact]
    public void Announces_beyond_the_pending_bound_get_tracker_busy_until_a_write_completes()
    {
        var settings = TrackerActorTests.Settings() with { MaxPendingAnnounces = 3 };
        var registry = StartRegistry(settings);
        var tracker = Sys.ActorOf(Actors.Torrent.Tracker.Tracker.Props(settings, registry));
        registry.Tell(new Announce(Request(1)));
        var first = ExpectPeersUpdate();
        registry.Tell(new Announce(Request(2)));
        registry.Tell(new Announce(Request(3)));

        // Through the HTTP edge: the refusal is a bencoded failure reason, at once.
        var query = TrackerActorTests.Query("busy", 7000, "&left=1");
        var request = new HttpRequest("GET", "/announce?" + query, Actors.Web.Http.HttpVersion.Http11, new HttpHeaders(), []);
        tracker.Tell(new HttpRequestReceived(request, new IPEndPoint(IPAddress.Loopback, 1)));
        var refusal = (BDictionary)BencodeDecoder.Decode(ExpectMsg<HttpReply>().Body);
        Assert.Equal(SwarmRegistry.BusyReason, refusal.GetText("failure reason"));

        registry.Tell(new UpdateSuccess(first.Key, first.Request));
        ExpectMsg<Announced>();
        var second = ExpectPeersUpdate();
        registry.Tell(new Announce(Request(4)));
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        registry.Tell(new UpdateSuccess(second.Key, second.Request));
        ExpectMsg<Announced>();
        ExpectMsg<Announced>();
        var third = ExpectPeersUpdate();
        registry.Tell(new UpdateSuccess(third.Key, third.Request));
        Assert.Equal(3, ExpectMsg<Announced>().Peers.Count);
    }
}
