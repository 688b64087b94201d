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
    public sealed record Scrape(IReadOnlyList<string> InfoHashes, IActorRef? Correlation = null);

    public sealed record Scraped(IReadOnlyList<SwarmStats> Swarms, IActorRef? Correlation);

    /// <summary>Timer tick: remove expired peers from the replicated state.</summary>
    public sealed record Prune
    {
        public static Prune Instance { get; } = new();
    }

    /// <summary>Carried through the replicator as the request context of an announce.</summary>
    internal sealed record PendingAnnounce(AnnounceRequest Request, int Shard, IActorRef ReplyTo, IActorRef? Correlation);

    internal sealed record DownloadsCounted(int Shard);
}
