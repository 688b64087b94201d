using Actors.Web.Server;
using Akka.Actor;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The HTTP edge of the tracker: the web server's <c>/announce</c> and <c>/scrape</c> routes. It
/// runs on each connection's own actor (an <see cref="IHttpEndpoint"/>): the connection parses the
/// query, answers a bad request at once with a bencoded failure, and sends everything else to the
/// <see cref="SwarmRegistry"/> with itself as the sender; the registry's answer comes back to the
/// connection, which encodes it here.
/// <para>
/// Why not an actor between the connections and the registry: with a connection per announce
/// (what real clients do), every hop is a thread-pool work item, and one actor for the whole node
/// would encode every answer on one thread. Parsing and bencoding hold no state, so each
/// connection does its own, and the registry stays the one actor that owns swarm state.
/// </para>
/// </summary>
public sealed class TrackerHttp(TrackerSettings settings, IActorRef registry) : IHttpEndpoint
{
    public const string AnnouncePath = "/announce";
    public const string ScrapePath = "/scrape";

    /// <summary>The web-server routes of the tracker.</summary>
    public static IReadOnlyList<HttpRoute> Routes(TrackerSettings settings, IActorRef registry)
    {
        var endpoint = new TrackerHttp(settings, registry);
        return [new HttpRoute(AnnouncePath, endpoint), new HttpRoute(ScrapePath, endpoint)];
    }

    public HttpReply? Handle(HttpRequestReceived received, IActorRef connection)
    {
        var request = received.Request;
        if (request.Method is not ("GET" or "HEAD"))
            return new HttpReply(405, "text/plain", "method not allowed\n"u8.ToArray(), [new("Allow", "GET, HEAD")]);
        switch (request.Path)
        {
            case AnnouncePath:
                var announce = TrackerRequestParser.ParseAnnounce(request.Query, received.Remote.Address, settings.Limits);
                if (announce.IsFailure) return Bencoded(TrackerResponses.Failure(announce.Failure!));
                registry.Tell(new Announce(announce.Value!), connection);
                return null;
            case ScrapePath:
                var scrape = TrackerRequestParser.ParseScrape(request.Query, settings.Limits);
                if (scrape.IsFailure) return Bencoded(TrackerResponses.Failure(scrape.Failure!));
                registry.Tell(new Scrape(scrape.Value!.InfoHashes), connection);
                return null;
            default:
                return new HttpReply(404, "text/plain", "not found\n"u8.ToArray());
        }
    }

    public HttpReply? Translate(object answer) => answer switch
    {
        Announced a => Bencoded(TrackerResponses.Announce(a.Request, a.Peers, a.Complete, a.Incomplete, settings.Interval, settings.MinInterval)),
        AnnounceFailed f => Bencoded(TrackerResponses.Failure(f.Reason)),
        Scraped s => Bencoded(TrackerResponses.Scrape(s.Swarms)),
        _ => null,
    };

    private static HttpReply Bencoded(byte[] body) => new(200, TrackerResponses.ContentType, body);
}
