using System.Net;
using Actors.Torrent.Tracker;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.TrackerWire;
using SerializationException = System.Runtime.Serialization.SerializationException;

namespace Actors.Torrent.Tests.Tracker;

public sealed class TrackerWireSerializerTests() : TestKit(TrackerActorTests.NodeConfig())
{
    private static readonly PeerChange Change = new(
        Id20.FromHex(new string('a', 40)), Id20.FromHex("2d4152313030302d303030303030303030303031"),
        PeerAddress.From(IPAddress.Parse("2001:db8::7")), 65535, Seeder: true, LastSeen: 123456789, Removed: false, Completed: true);

    private static readonly AnnounceRequest Request = new(new string('c', 40), new string('d', 40), IPAddress.Parse("10.1.2.3"),
        6881, 1, 2, null, AnnounceEvent.Completed, Compact: false, NoPeerId: true, 77, null, null);

    public static IEnumerable<object[]> Messages() =>
    [
        [Hello.Instance],
        [Welcome.Instance],
        [new ForwardedAnnounce(42, Request)],
        [new ForwardedAnnounce(43, Request with { Left = 0, Ip = IPAddress.Parse("::1"), Compact = true, NoPeerId = false, Event = AnnounceEvent.None })],
        [new ReplicaAck(-7)],
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Simple_messages_round_trip(object message) => Assert.Equal(message, RoundTrip(message));

    [Fact]
    public void Messages_with_lists_round_trip()
    {
        var peers = new[] { new SwarmPeer(Change.PeerId, Change.Address, 1), new SwarmPeer(default, PeerAddress.From(IPAddress.Loopback), 2) };
        var answer = (ForwardedAnswer)RoundTrip(new ForwardedAnswer(1, peers, 3, 4, null));
        Assert.Equal(peers, answer.Peers);
        Assert.Equal((3, 4, (string?)null), (answer.Complete, answer.Incomplete, answer.Failure));
        var failed = (ForwardedAnswer)RoundTrip(new ForwardedAnswer(2, [], 0, 0, "tracker busy"));
        Assert.Equal("tracker busy", failed.Failure);

        var batch = (ReplicaBatch)RoundTrip(new ReplicaBatch(9, [Change, Change with { Removed = true, Seeder = false }]));
        Assert.Equal([Change, Change with { Removed = true, Seeder = false }], batch.Changes);

        var snapshot = (PartitionSnapshot)RoundTrip(new PartitionSnapshot(41, 17, [Change], [new SwarmDownloads(Change.InfoHash, 12)]));
        Assert.Equal((41L, 17, Change, 12L), (snapshot.Id, snapshot.Partition, snapshot.Peers.Single(), snapshot.Downloads.Single().Downloaded));
        Assert.Equal(new HandoverAck(41), RoundTrip(new HandoverAck(41)));

        var batched = (Batch)RoundTrip(new Batch([new ReplicaAck(1), new ForwardedAnnounce(2, Request), Hello.Instance]));
        Assert.Equal([new ReplicaAck(1), new ForwardedAnnounce(2, Request), Hello.Instance], batched.Messages);
        Assert.Throws<ArgumentException>(() => Serializer().ToBinary(new Batch([new Batch([])])));

        var scrape = (RemoteScrape)RoundTrip(new RemoteScrape(5, [Change.InfoHash], All: false));
        Assert.Equal(Change.InfoHash, scrape.InfoHashes.Single());
        var scraped = (RemoteScraped)RoundTrip(new RemoteScraped(5, [new SwarmStats(Change.InfoHash.ToHex(), 1, 2, 3)]));
        Assert.Equal(new SwarmStats(Change.InfoHash.ToHex(), 1, 2, 3), scraped.Swarms.Single());
    }

    [Fact]
    public void Truncated_or_unknown_input_is_a_serialization_error_never_a_crash()
    {
        var serializer = Serializer();
        var message = new ReplicaBatch(9, [Change, Change]);
        var bytes = serializer.ToBinary(message);
        for (var length = 0; length < bytes.Length; length++)
            Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..length], "RB"));
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "??"));
        var corrupt = (byte[])bytes.Clone();
        corrupt[9] = 0x7F; // element count far beyond the bytes present
        Assert.Throws<SerializationException>(() => serializer.FromBinary(corrupt, "RB"));
    }

    [Fact]
    public void Config_binds_every_wire_message_to_the_serializer() =>
        Assert.IsType<TrackerWireSerializer>(Sys.Serialization.FindSerializerFor(new ReplicaAck(1)));

    private TrackerWireSerializer Serializer() => new((ExtendedActorSystem)Sys);

    private object RoundTrip(object message)
    {
        var serializer = Serializer();
        return serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
    }
}
