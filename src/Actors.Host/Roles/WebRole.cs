using Actors.Host.Cli;
using Actors.Host.Hosting;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary><c>actors web</c>: the HTTP/1.1 static-file server.</summary>
public sealed class WebRole : ClusterRoleCommand
{
    public override string Name => "web";
    public override string Summary => "Serve a folder over HTTP/1.1 (GET, HEAD, Range, conditional GET, keep-alive).";

    // tracker.conf supplies actors.tracker for --tracker; web.conf wins where both speak.
    protected override IReadOnlyList<string> ConfigFiles => ["web", "tracker"];

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--root", "actors.web.root", "the document root to serve", "DIR"),
        new("--port", "actors.web.port", "HTTP port (0 picks a free one)", "PORT"),
        new("--host", "actors.web.host", "address to listen on", "ADDR"),
        new("--max-connections", "actors.web.max-connections", "connections open at once", "N"),
        new("--header-timeout", "actors.web.header-timeout", "time to send a request head (408 after)", "DURATION"),
        new("--idle-timeout", "actors.web.idle-timeout", "close idle keep-alive connections after", "DURATION"),
        new("--access-log", "actors.web.access-log", "one log line per request", "on|off"),
        new("--directory-listing", "actors.web.directory-listing", "list folders without index.html", "on|off"),
        new("--tracker", "actors.web.tracker", "also run the BitTorrent tracker on /announce and /scrape", IsFlag: true),
    ];

    protected override Action<ActorSystem> Prepare(Config config)
    {
        if (new Actors.Net.Configuration.SettingsReader(config, "actors.web").Bool("tracker"))
            return TrackerRole.PrepareTracker(config);
        var settings = WebServerSettingsReader.Read(config);
        return system => system.ActorOf(RoleGuardian.Props(WebServer.Props(settings), "http"), "web");
    }
}
