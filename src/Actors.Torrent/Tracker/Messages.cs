using Akka.Actor;

namespace Actors.Torrent.Tracker;

/// <summary>Messages of the <see cref="SwarmRegistry"/>. The reply goes to the sender.</summary>
public static class SwarmRegistryProtocol
{
    /// <summary>
    /// Record (or, for <c>stopped</c>, remove) a peer and ask for others in its swarm.
    /// <paramref name="Correlation"/> comes back untouched in the answer (the tracker puts the
    /// waiting HTTP connection there).
    /// </summary>
    public sealed record Announce(AnnounceRequest Request, IActorRef? Correlation = null);

    /// <summary>The answer to <see cref="Announce"/>: up to numwant other live peers and the swarm's counts.</summary>
    public sealed record Announced(AnnounceRequest Request, IReadOnlyList<SwarmPeer> Peers, int Complete, int Incomplete, IActorRef? Correlation);

    /// <summary>Counts for the given swarms, or for every known swarm (bounded) when the list is empty.</summary>
    /// <summary>
    /// The answer to <see cref="Announce"/> when it was not recorded (the tracker is busy, or the
    /// write failed): the client gets a bencoded failure reason and announces again later.
    /// </summary>
    public sealed record AnnounceFailed(string Reason, IActorRef? Correlation);

    public sealed record Scrape(IReadOnlyList<string> InfoHashes, IActorRef? Correlation = null);

    public sealed record Scraped(IReadOnlyList<SwarmStats> Swarms, IActorRef? Correlation);

    /// <summary>Timer tick: remove expired peers from the replicated state.</summary>
    public sealed record Prune
    {
        public static Prune Instance { get; } = new();
    }

    /// <summary>An announce recorded locally whose answer waits for its batch to reach a majority.</summary>
    internal sealed record PendingAnnounce(AnnounceRequest Request, IActorRef ReplyTo, IActorRef? Correlation);

    /// <summary>Time to write a shard's collected announces (one replicator Update).</summary>
    internal sealed record FlushShard(int Shard);

    /// <summary>Carried through the replicator as the request context of a batch's Update.</summary>
    internal sealed record WriteBatch(int Shard, long Id);

    /// <summary>Request context of a downloads-counter Update (whose answer needs no action).</summary>
    internal sealed record DownloadsCounted
    {
        public static DownloadsCounted Instance { get; } = new();
    }
}
