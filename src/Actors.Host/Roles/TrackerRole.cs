using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Torrent.Tracker;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors tracker</c>: a BitTorrent HTTP tracker (BEP 3, 23, 48) and UDP tracker (BEP 15) whose swarms are spread over
/// the tracker nodes of the cluster, each owned by one node and backed up on another
/// (see src/Actors.Torrent/README.md).
/// </summary>
public sealed class TrackerRole : ClusterRoleCommand
{
    public override string Name => TrackerNode.ClusterRole; // the registries wait for members with this role (SwarmRegistry.Settling)
    public override string Summary => "Run a BitTorrent tracker (/announce, /scrape, and BEP 15 over UDP); tracker nodes of one cluster share the swarms.";

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--port", "actors.web.port", "HTTP port (0 picks a free one)", "PORT"),
        new("--host", "actors.web.host", "address to listen on", "ADDR"),
        new("--udp-port", "actors.tracker.udp-port", "BEP 15 UDP port (default: the HTTP port's number; 0 turns UDP off)", "PORT"),
        new("--root", "actors.web.root", "also serve this folder (e.g. the .torrent files)", "DIR"),
        new("--interval", "actors.tracker.interval", "announce interval given to clients", "DURATION"),
        new("--min-interval", "actors.tracker.min-interval", "minimum announce interval", "DURATION"),
        new("--peer-expiry", "actors.tracker.peer-expiry", "forget peers silent for this long", "DURATION"),
        new("--replication", "actors.tracker.replication", "answer after every other holder of the partition holds the announce, or at once", "sync|async"),
        new("--access-log", "actors.web.access-log", "one log line per request", "on|off"),
    ];

    // tracker.conf first; web.conf supplies the HTTP settings it does not name.
    protected override IReadOnlyList<string> ConfigFiles => ["tracker", "web"];

    protected override Action<ActorSystem> Prepare(Config config) => PrepareTracker(config);

    /// <summary>Reads the tracker's and its web server's settings; shared with <c>actors web --tracker</c>.</summary>
    internal static Action<ActorSystem> PrepareTracker(Config config)
    {
        var tracker = TrackerSettings.Read(config);
        var web = WebServerSettingsReader.Read(config);
        // The same path on every tracker node (also under `actors web --tracker`): registries find each other there.
        return system => system.ActorOf(RoleGuardian.Props(TrackerNode.Props(tracker, web), "tracker-node"), "tracker");
    }
}
