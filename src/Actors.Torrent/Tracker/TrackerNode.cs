using Actors.Net.Supervision;
using Actors.Web.Server;
using Akka.Actor;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The tracker role's root actor. Actor tree on a tracker node:
/// <code>
/// /system/ddataReplicator      Akka.DistributedData's replicator (started on every node by cluster.conf)
/// /user/tracker/tracker-node    TrackerNode (this)
///     swarm-registry            SwarmRegistry: reads and writes swarms through the replicator
///     tracker                   Tracker: HTTP /announce and /scrape in, bencode out
///     http                      WebServer with the tracker routes (and static files from its root)
/// </code>
/// </summary>
public sealed class TrackerNode : ReceiveActor
{
    public const string ReplicatorName = "tracker-replicator";

    public static Props Props(TrackerSettings settings, WebServerSettings web, IActorRef replicator) =>
        Akka.Actor.Props.Create(() => new TrackerNode(settings, web, replicator));

    public TrackerNode(TrackerSettings settings, WebServerSettings web, IActorRef replicator)
    {
        var registry = Context.ActorOf(SwarmRegistry.Props(settings, replicator), "swarm-registry");
        var tracker = Context.ActorOf(Tracker.Props(settings, registry), "tracker");
        var http = Context.ActorOf(WebServer.Props(web, Tracker.Routes(tracker)), "http");
        // Questions about the listener (where it listens) go to the web server.
        ReceiveAny(message => http.Forward(message));
    }

    // A web server that cannot bind is fatal for the role: escalate so the host reports and exits (FailurePolicy).
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy(_ => Directive.Escalate);
}
