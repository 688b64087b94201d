using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Torrent.Tracker;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors tracker</c>: a BitTorrent HTTP tracker (BEP 3, 23, 48) whose swarms are shared by
/// every tracker node of the cluster (see src/Actors.Torrent/README.md).
/// </summary>
public sealed class TrackerRole : ClusterRoleCommand
{
    public override string Name => "tracker";
    public override string Summary => "Run a BitTorrent tracker (/announce, /scrape); tracker nodes of one cluster share every swarm.";

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--port", "actors.web.port", "HTTP port (0 picks a free one)", "PORT"),
        new("--host", "actors.web.host", "address to listen on", "ADDR"),
        new("--root", "actors.web.root", "also serve this folder (e.g. the .torrent files)", "DIR"),
        new("--interval", "actors.tracker.interval", "announce interval given to clients", "DURATION"),
        new("--min-interval", "actors.tracker.min-interval", "minimum announce interval", "DURATION"),
        new("--peer-expiry", "actors.tracker.peer-expiry", "forget peers silent for this long", "DURATION"),
        new("--write-consistency", "actors.tracker.write-consistency", "answer after a majority of nodes hold the announce, or at once", "majority|local"),
        new("--access-log", "actors.web.access-log", "one log line per request", "on|off"),
    ];

    protected override void Start(ActorSystem system, Config config) => StartTracker(system, config);

    /// <summary>Starts the tracker (and the web server carrying it); shared with <c>actors web --tracker</c>.</summary>
    internal static void StartTracker(ActorSystem system, Config config)
    {
        // The tracker's own file names actors.tracker and a few actors.web keys; web.conf has the rest.
        var full = config.WithFallback(ConfigLoader.Load("web", "", null)).WithFallback(ConfigLoader.Load("tracker", "", null));
        if (string.IsNullOrEmpty(full.GetString("actors.web.root")))
        {
            // No folder to serve: an empty one, so every path but the tracker's is 404.
            var empty = Path.Combine(Path.GetTempPath(), "actors-tracker-empty");
            Directory.CreateDirectory(empty);
            full = ConfigurationFactory.ParseString($"actors.web.root = \"{empty}\"").WithFallback(full);
        }
        var tracker = TrackerSettings.Read(full);
        var web = WebServerSettingsReader.Read(full);
        var replicator = Akka.DistributedData.DistributedData.Get(system).Replicator;
        system.ActorOf(RoleGuardian.Props(TrackerNode.Props(tracker, web, replicator), "tracker-node"), "tracker");
    }
}
