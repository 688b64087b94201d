using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Actors.Web.Http;
using Akka.Actor;

namespace Actors.Web.Server;

/// <summary>
/// The web role's root actor (<c>/user/web</c>): owns the listener, which gives each accepted
/// connection an <see cref="HttpConnection"/>. Requests under a routed prefix go to that route's
/// actor (the tracker mounts <c>/announce</c> and <c>/scrape</c> this way); everything else is a
/// static file from the document root.
/// </summary>
public sealed class WebServer : ReceiveActor
{
    public static Props Props(WebServerSettings settings, IReadOnlyList<HttpRoute>? routes = null) =>
        Akka.Actor.Props.Create(() => new WebServer(settings, routes ?? Array.Empty<HttpRoute>()));

    public WebServer(WebServerSettings settings, IReadOnlyList<HttpRoute> routes)
    {
        var cache = settings.Root is not null && settings.FileCacheBytes > 0
            ? new FileCache(settings.FileCacheBytes, maxFileBytes: settings.ChunkSize)
            : null;
        var files = new StaticFiles(settings.Root is null ? null : new DocumentRoot(settings.Root), settings.DirectoryListing, cache);
        var listener = Context.ActorOf(TcpServer.Props(
            new TcpServerSettings(settings.Host, settings.Port, settings.MaxConnections, PullMode: true),
            (connection, remote, _) => HttpConnection.Props(connection, remote, settings, files, routes)), "listener");
        // Questions about the listener (where it listens, its counters) are its to answer.
        ReceiveAny(message => listener.Forward(message));
    }

    // A listener that cannot bind is fatal for the role: escalate so the host reports and exits (FailurePolicy).
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy(_ => Directive.Escalate);
}
