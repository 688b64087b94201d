using System.Net;
using Actors.Net.Supervision;
using Actors.Net.Udp;
using Actors.Torrent.Tracker.Udp;
using Actors.Web.Server;
using Akka.Actor;
using static Actors.Torrent.Tracker.Udp.UdpTrackerProtocol;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The tracker role's root actor. Actor tree on a tracker node:
/// <code>
/// /user/tracker/tracker-node    TrackerNode (this)
///     swarm-registry            SwarmRegistry: the partitions this node owns or backs up; forwards, replicates, hands over
///     tracker                   Tracker: HTTP /announce and /scrape in, bencode out
///     http                      WebServer with the tracker routes (and static files from its root)
///     udp                       UdpTracker: BEP 15 over UDP, the same registry (unless udp-port = 0)
/// </code>
/// </summary>
public sealed class TrackerNode : ReceiveActor, IWithStash
{
    /// <summary>The cluster role of <c>actors tracker</c> nodes (the host names a node's role after its command).</summary>
    public const string ClusterRole = "tracker";

    public static Props Props(TrackerSettings settings, WebServerSettings web) =>
        Akka.Actor.Props.Create(() => new TrackerNode(settings, web));

    private readonly TrackerSettings _settings;
    private readonly IActorRef _registry;
    private readonly IActorRef _http;
    private IActorRef? _udp;

    public IStash Stash { get; set; } = null!;

    public TrackerNode(TrackerSettings settings, WebServerSettings web)
    {
        _settings = settings;
        // Registries find each other at the same path on every node (SwarmRegistry's Hello).
        _registry = Context.ActorOf(SwarmRegistry.Props(settings), "swarm-registry");
        // /announce and /scrape run on each HTTP connection's actor, which asks the registry (TrackerHttp).
        _http = Context.ActorOf(WebServer.Props(web, TrackerHttp.Routes(settings, _registry)), "http");

        if (settings.UdpSameAsHttp)
        {
            // The HTTP port's number, known once HTTP has bound (it may have been 0: any free port).
            _http.Tell(Actors.Net.Tcp.TcpServer.GetListening.Instance);
            Receive<Actors.Net.Tcp.TcpServer.Listening>(listening =>
            {
                StartUdp((IPEndPoint)listening.LocalAddress);
                Stash.UnstashAll();
            });
        }
        else if (settings.UdpPort > 0)
        {
            StartUdp(new IPEndPoint(Resolve(web.Host), settings.UdpPort.Value));
        }
        // Questions about the UDP socket go to it (they wait until it exists); none when UDP is off.
        Receive<GetUdpListening>(ForwardToUdp);
        Receive<GetUdpStats>(ForwardToUdp);
        // Questions about the listener (where it listens) go to the web server.
        ReceiveAny(message => _http.Forward(message));
    }

    private void StartUdp(IPEndPoint endPoint)
    {
        DatagramMailbox.Ensure(Context.System);
        _udp = Context.ActorOf(UdpTracker.Props(_settings, _registry, endPoint), "udp");
    }

    private void ForwardToUdp(object message)
    {
        if (_udp is not null) _udp.Forward(message);
        else if (_settings.UdpPort != 0) Stash.Stash();
    }

    private static IPAddress Resolve(string host) =>
        IPAddress.TryParse(host, out var address) ? address : Dns.GetHostAddresses(host).First();

    // A web server or UDP socket that cannot bind is fatal for the role: escalate so the host reports and exits (FailurePolicy).
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy(_ => Directive.Escalate);
}
