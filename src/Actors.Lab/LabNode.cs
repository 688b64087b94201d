using System.Net;
using Actors.Lab.Api;
using Actors.Lab.Events;
using Actors.Lab.Links;
using Actors.Lab.Partitions;
using Actors.Lab.Processes;
using Actors.Lab.Status;
using Actors.Net.Tcp;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Event;

namespace Actors.Lab;

/// <summary>
/// The lab role's root (<c>/user/lab/lab</c>): creates the event log, the status view (where
/// agents report), the process fault plane, the HTTP API and its server. Once the server is
/// bound it prints the URL and the token and writes them to the url/token files.
/// </summary>
public sealed class LabNode : ReceiveActor
{
    private readonly LabSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    private IActorRef _events = ActorRefs.Nobody;

    /// <param name="links">The link proxy's manager (<c>LinkManager.Props(config)</c>: the links of actors.lab.links).</param>
    public static Props Props(LabSettings settings, Props links) => Akka.Actor.Props.Create(() => new LabNode(settings, links));

    public LabNode(LabSettings settings, Props links)
    {
        _settings = settings;
        var manifests = new ManifestStore(settings.Manifests);
        var events = _events = Context.ActorOf(EventLog.Props(), "events");
        var status = Context.ActorOf(ClusterStatus.Props(manifests, events), "status");
        // Faults of nodes this machine started run here; others go to their machine's agent.
        var processFaults = Context.ActorOf(FaultRouter.Props(manifests, Context.ActorOf(ProcessFaults.Props(manifests, events), "process-faults")), "faults");
        var partitions = Context.ActorOf(PartitionControl.Props(status, events), "partitions");
        var linkManager = Context.ActorOf(links, "links");
        var api = Context.ActorOf(LabApi.Props(status, events, processFaults, partitions, linkManager, settings.Token, settings.Runs), "api");
        var web = new WebServerSettings(settings.Host, settings.Port, Root: null, MaxConnections: 256, new Web.Http.HttpLimits(),
            HeaderTimeout: TimeSpan.FromSeconds(10), IdleTimeout: TimeSpan.FromSeconds(60), WriteTimeout: TimeSpan.FromSeconds(30),
            ChunkSize: 64 * 1024, DirectoryListing: false, AccessLog: false);
        var http = Context.ActorOf(WebServer.Props(web, [new HttpRoute("/", api)]), "http");
        http.Tell(TcpServer.GetListening.Instance);
        Receive<TcpServer.Listening>(OnListening);
        Receive<LinkChanged>(OnLinkChanged);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(LinkChanged));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    /// <summary>A toxic added is a fault begun; removed or cleared, a fault ended; the rest is the link's life.</summary>
    private void OnLinkChanged(LinkChanged changed)
    {
        var kind = changed.Change.StartsWith("toxic added", StringComparison.Ordinal) ? "fault-begun"
            : changed.Change.StartsWith("toxic removed", StringComparison.Ordinal) || changed.Change.StartsWith("toxics cleared", StringComparison.Ordinal) ? "fault-ended"
            : "link-changed";
        var toxics = changed.Toxics.Count == 0 ? "no toxics" : string.Join(", ", changed.Toxics.Select(t => t.ToString()));
        _events.Tell(new RecordEvent("link " + changed.Link, kind, $"{changed.Change} ({toxics})"));
    }

    private void OnListening(TcpServer.Listening listening)
    {
        var port = (listening.LocalAddress as IPEndPoint)?.Port ?? _settings.Port;
        var url = $"http://{(_settings.Host is "0.0.0.0" or "::" ? "127.0.0.1" : _settings.Host)}:{port}/";
        Write(_settings.TokenFile, _settings.Token + "\n");
        Write(_settings.UrlFile, url + "\n");
        // The one place the token is shown: whoever started the lab needs it to change the cluster.
        Console.WriteLine($"Lab: {url}  token: {_settings.Token}");
        Console.WriteLine($"Dashboard: {url}#token={_settings.Token}");
        _log.Info("Lab API and dashboard on {0}", url);
    }

    private void Write(string path, string text)
    {
        if (path.Length == 0) return;
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null) Directory.CreateDirectory(directory);
            File.WriteAllText(path, text);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Cannot write {0}: {1}", path, ex.Message);
        }
    }

    // A failing child (the listener cannot bind) makes the lab useless: escalate so the host exits 1.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
        ex is TcpServer.BindFailedException ? Directive.Escalate : Directive.Restart);
}
