using Actors.Net.Supervision;
using Actors.Web.Server;
using Akka.Actor;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The tracker role's root actor. Actor tree on a tracker node:
/// <code>
/// /user/tracker/tracker-node    TrackerNode (this)
///     swarm-registry            SwarmRegistry: the partitions this node owns or backs up; forwards, replicates, hands over
///     tracker                   Tracker: HTTP /announce and /scrape in, bencode out
///     http                      WebServer with the tracker routes (and static files from its root)
/// </code>
/// </summary>
public sealed class TrackerNode : ReceiveActor
{
    public static Props Props(TrackerSettings settings, WebServerSettings web) =>
        Akka.Actor.Props.Create(() => new TrackerNode(settings, web));

    public TrackerNode(TrackerSettings settings, WebServerSettings web)
    {
        // Registries find each other at the same path on every node (SwarmRegistry's Hello).
        var registry = Context.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        var tracker = Context.ActorOf(Tracker.Props(settings, registry), "tracker");
        var http = Context.ActorOf(WebServer.Props(web, Tracker.Routes(tracker)), "http");
        // Questions about the listener (where it listens) go to the web server.
        ReceiveAny(message => http.Forward(message));
    }

    // A web server that cannot bind is fatal for the role: escalate so the host reports and exits (FailurePolicy).
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy(_ => Directive.Escalate);
}
