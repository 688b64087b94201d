using Actors.Web.Server;
using Akka.Actor;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The HTTP edge of the tracker (<c>/user/.../tracker</c>): the web server routes <c>/announce</c>
/// and <c>/scrape</c> here. It parses the query, answers bad requests at once with a bencoded
/// failure, and asks the <see cref="SwarmRegistry"/> for everything else; the registry's answer
/// comes back here and is encoded for the waiting connection.
/// </summary>
public sealed class Tracker : ReceiveActor
{
    public const string AnnouncePath = "/announce";
    public const string ScrapePath = "/scrape";

    public static Props Props(TrackerSettings settings, IActorRef registry) =>
        Akka.Actor.Props.Create(() => new Tracker(settings, registry));

    /// <summary>The web-server routes that send tracker requests to <paramref name="tracker"/>.</summary>
    public static IReadOnlyList<HttpRoute> Routes(IActorRef tracker) =>
        [new HttpRoute(AnnouncePath, tracker), new HttpRoute(ScrapePath, tracker)];

    private readonly TrackerSettings _settings;
    private readonly IActorRef _registry;

    public Tracker(TrackerSettings settings, IActorRef registry)
    {
        _settings = settings;
        _registry = registry;
        Receive<HttpRequestReceived>(OnRequest);
        // The correlation is the waiting HTTP connection.
        Receive<Announced>(a => (a.Correlation as IActorRef)?.Tell(Bencoded(TrackerResponses.Announce(a.Request, a.Peers, a.Complete,
            a.Incomplete, _settings.Interval, _settings.MinInterval))));
        Receive<AnnounceFailed>(f => (f.Correlation as IActorRef)?.Tell(Bencoded(TrackerResponses.Failure(f.Reason))));
        Receive<Scraped>(s => (s.Correlation as IActorRef)?.Tell(Bencoded(TrackerResponses.Scrape(s.Swarms))));
    }

    private void OnRequest(HttpRequestReceived received)
    {
        var request = received.Request;
        if (request.Method is not ("GET" or "HEAD"))
        {
            Sender.Tell(new HttpReply(405, "text/plain", "method not allowed\n"u8.ToArray(), [new("Allow", "GET, HEAD")]));
            return;
        }
        var path = request.Path;
        var replyTo = Sender;
        if (path == AnnouncePath)
        {
            var parsed = TrackerRequestParser.ParseAnnounce(request.Query, received.Remote.Address, _settings.Limits);
            if (parsed.IsFailure) { replyTo.Tell(Bencoded(TrackerResponses.Failure(parsed.Failure!))); return; }
            _registry.Tell(new Announce(parsed.Value!, replyTo));
        }
        else if (path == ScrapePath)
        {
            var parsed = TrackerRequestParser.ParseScrape(request.Query, _settings.Limits);
            if (parsed.IsFailure) { replyTo.Tell(Bencoded(TrackerResponses.Failure(parsed.Failure!))); return; }
            _registry.Tell(new Scrape(parsed.Value!.InfoHashes, replyTo));
        }
        else
        {
            replyTo.Tell(new HttpReply(404, "text/plain", "not found\n"u8.ToArray()));
        }
    }

    private static HttpReply Bencoded(byte[] body) => new(200, TrackerResponses.ContentType, body);
}
