using Akka.Actor;

namespace Actors.Torrent.Tracker;

/// <summary>Messages of the <see cref="SwarmRegistry"/> on one node. The reply goes to the sender.</summary>
public static class SwarmRegistryProtocol
{
    /// <summary>
    /// Record (or, for <c>stopped</c>, remove) a peer and ask for others in its swarm.
    /// <paramref name="Correlation"/> comes back untouched in the answer and never leaves the node:
    /// the HTTP edge needs none (the waiting connection is the sender), the UDP edge puts the client's address and
    /// transaction id (so it keeps no table of requests in flight).
    /// </summary>
    public sealed record Announce(AnnounceRequest Request, object? Correlation = null);

    /// <summary>The answer to <see cref="Announce"/>: up to numwant other live peers and the swarm's counts.</summary>
    public sealed record Announced(AnnounceRequest Request, IReadOnlyList<SwarmPeer> Peers, int Complete, int Incomplete, object? Correlation);

    /// <summary>
    /// The answer to <see cref="Announce"/> when it was not recorded (the tracker is busy, or the
    /// owner did not answer): the client gets a bencoded failure reason and announces again later.
    /// </summary>
    public sealed record AnnounceFailed(string Reason, object? Correlation);

    /// <summary>Counts for the given swarms (info-hash hex), or for every known swarm (bounded) when the list is empty.</summary>
    public sealed record Scrape(IReadOnlyList<string> InfoHashes, object? Correlation = null);

    public sealed record Scraped(IReadOnlyList<SwarmStats> Swarms, object? Correlation);

    /// <summary>Asks for <see cref="RegistryStatus"/> (tests, diagnostics).</summary>
    public sealed record GetStatus
    {
        public static GetStatus Instance { get; } = new();
    }

    /// <summary>
    /// What this node holds: the tracker nodes in its view, partitions it owns and backs up, peers
    /// and swarms; and how many announces it forwarded since it started (those for partitions it holds no copy of).
    /// </summary>
    public sealed record RegistryStatus(IReadOnlyList<Address> View, int Owned, int BackedUp, long Peers, int Swarms, long Forwarded);

    /// <summary>Timer tick: remove expired peers, drop partitions handed over long enough ago.</summary>
    internal sealed record Prune
    {
        public static Prune Instance { get; } = new();
    }

    /// <summary>Timer tick: time out forwards, replica writes and scrapes that waited too long.</summary>
    internal sealed record Housekeeping
    {
        public static Housekeeping Instance { get; } = new();
    }

    /// <summary>Time to send the changes collected for one other holder (one <see cref="TrackerWire.ReplicaBatch"/>).</summary>
    internal sealed record FlushReplicas(Address To);

    /// <summary>Time to send what collected for one other registry (one <see cref="TrackerWire.Batch"/>).</summary>
    internal sealed record FlushOutbox(IActorRef To);
}

/// <summary>
/// Messages between the registries of tracker nodes. Every one has a stable binary wire shape
/// (<see cref="TrackerWireSerializer"/>, bound in config/cluster.conf).
/// </summary>
public static class TrackerWire
{
    /// <summary>Marks the messages <see cref="TrackerWireSerializer"/> writes.</summary>
    public interface IMessage;

    /// <summary>"I run a tracker registry": sent to a member's registry when it comes up; answered by <see cref="Welcome"/>.</summary>
    public sealed record Hello : IMessage
    {
        public static Hello Instance { get; } = new();
    }

    public sealed record Welcome : IMessage
    {
        public static Welcome Instance { get; } = new();
    }

    /// <summary>
    /// An announce for a partition this node holds no copy of (possible with three nodes or more),
    /// sent once to the owner. Answered by <see cref="ForwardedAnswer"/>.
    /// </summary>
    public sealed record ForwardedAnnounce(long Id, AnnounceRequest Request) : IMessage;

    /// <summary>
    /// The owner's answer to a <see cref="ForwardedAnnounce"/> (sent once the holders of its view
    /// have the change, with sync replication), or its <see cref="Failure"/>.
    /// </summary>
    public sealed record ForwardedAnswer(long Id, IReadOnlyList<SwarmPeer> Peers, int Complete, int Incomplete, string? Failure) : IMessage;

    /// <summary>
    /// Changes a holder applied for the announces it received, in order, for another holder of
    /// their partitions (every holder streams its own). Answered by <see cref="ReplicaAck"/>.
    /// </summary>
    public sealed record ReplicaBatch(long Id, IReadOnlyList<PeerChange> Changes) : IMessage;

    public sealed record ReplicaAck(long Id) : IMessage;

    /// <summary>
    /// Part of a partition's state (its peers, download counts and remembered removals), handed to
    /// a node that has become one of its holders, or that missed batches of it. Answered
    /// by <see cref="HandoverAck"/> once merged; the sender keeps the partition until every chunk
    /// was acknowledged and sends it again (bounded) when one was not.
    /// </summary>
    public sealed record PartitionSnapshot(long Id, int Partition, IReadOnlyList<PeerChange> Peers, IReadOnlyList<SwarmDownloads> Downloads) : IMessage;

    /// <summary>"I hold the chunk <see cref="PartitionSnapshot.Id"/>."</summary>
    public sealed record HandoverAck(long Id) : IMessage;

    /// <summary>Scrape counts of the given swarms, or (<see cref="All"/>) of every swarm the receiver owns.</summary>
    public sealed record RemoteScrape(long Id, IReadOnlyList<Id20> InfoHashes, bool All) : IMessage;

    public sealed record RemoteScraped(long Id, IReadOnlyList<SwarmStats> Swarms) : IMessage;

    /// <summary>
    /// Several of the messages above for one registry, in order: what a registry sends another
    /// while it works through its mailbox goes as one remote message (one envelope, one write),
    /// so forwards and answers cost less per announce under load. Never nested.
    /// </summary>
    public sealed record Batch(IReadOnlyList<IMessage> Messages) : IMessage;
}
