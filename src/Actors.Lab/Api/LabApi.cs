using System.Net;
using System.Security.Cryptography;
using System.Text;
using Actors.Lab.Events;
using Actors.Lab.Links;
using Actors.Lab.Partitions;
using Actors.Lab.Processes;
using Actors.Lab.Status;
using Actors.Web.Server;
using Akka.Actor;
using Akka.Event;

namespace Actors.Lab.Api;

/// <summary>
/// The lab's HTTP API and dashboard (<c>api</c>), mounted on our own HTTP server as the route
/// for "/". Reads need no token; every call that changes the cluster (POST) needs the lab's token
/// in <c>X-Lab-Token</c> (or <c>Authorization: Bearer</c>): without it nothing changes, the answer
/// is 401 and the attempt is logged and recorded as a <c>fault-refused</c> event. Answers that
/// need another actor are asked and piped straight to the connection (no state here).
/// See README.md for the routes.
/// </summary>
public sealed class LabApi : ReceiveActor
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(8);

    private readonly IActorRef _status;
    private readonly IActorRef _events;
    private readonly IActorRef _processFaults;
    private readonly IActorRef _partitions;
    private readonly IActorRef _links;
    private readonly byte[] _token;
    private readonly string _runs;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public static Props Props(IActorRef status, IActorRef events, IActorRef processFaults, IActorRef partitions, IActorRef links, string token, string runs = "lab-runs") =>
        Akka.Actor.Props.Create(() => new LabApi(status, events, processFaults, partitions, links, token, runs));

    public LabApi(IActorRef status, IActorRef events, IActorRef processFaults, IActorRef partitions, IActorRef links, string token, string runs)
    {
        _runs = runs;
        _status = status;
        _events = events;
        _processFaults = processFaults;
        _partitions = partitions;
        _links = links;
        _token = Encoding.UTF8.GetBytes(token);
        Receive<HttpRequestReceived>(OnRequest);
    }

    private void OnRequest(HttpRequestReceived received)
    {
        var request = received.Request;
        var path = request.Path;
        var query = Query.Parse(request.Query);
        if (request.Method is "GET" or "HEAD")
        {
            switch (path)
            {
                case "/" or "/index.html": Asset("index.html", "text/html; charset=utf-8"); return;
                case "/app.js": Asset("app.js", "text/javascript; charset=utf-8"); return;
                case "/app.css": Asset("app.css", "text/css; charset=utf-8"); return;
                case "/api/status":
                    _status.Ask<StatusSnapshot>(GetStatus.Instance, AskTimeout)
                        .PipeTo(Sender, success: s => Json(200, s), failure: Unavailable);
                    return;
                case "/metrics":
                    _status.Ask<StatusSnapshot>(GetStatus.Instance, AskTimeout)
                        .PipeTo(Sender, success: s => new HttpReply(200, PrometheusText.ContentType, Encoding.UTF8.GetBytes(PrometheusText.Write(s))), failure: Unavailable);
                    return;
                case "/api/events":
                    Context.ActorOf(SseStream.Props(_events, _status)).Forward(received);
                    return;
                case "/api/events/recent":
                    var count = int.TryParse(query.GetValueOrDefault("n"), out var n) ? Math.Clamp(n, 1, 1000) : 100;
                    _events.Ask<RecentEvents>(new GetRecentEvents(count), AskTimeout)
                        .PipeTo(Sender, success: r => Json(200, r.Events), failure: Unavailable);
                    return;
                case "/api/links":
                    _links.Ask<object>(ListLinks.Instance, AskTimeout).PipeTo(Sender, success: LinksApi.Reply, failure: Unavailable);
                    return;
            }
            if (path == "/api/runs" || path.StartsWith("/api/runs/", StringComparison.Ordinal))
            {
                // Experiment bundles on disk: read off this actor's thread.
                var runs = _runs;
                Task.Run(() => Experiments.RunsApi.Reply(runs, path)).PipeTo(Sender, failure: Unavailable);
                return;
            }
            Sender.Tell(Error(404, $"no such resource: {path}"));
            return;
        }
        if (request.Method != "POST")
        {
            Sender.Tell(Error(405, "GET for reads, POST for changes") with { Headers = [new("Allow", "GET, HEAD, POST")] });
            return;
        }
        if (!Authorized(request))
        {
            var remote = received.Remote.ToString();
            _log.Warning("Refused {0} {1} from {2}: missing or wrong lab token", request.Method, path, remote);
            _events.Tell(new RecordEvent("lab", "fault-refused", $"{request.Method} {path} from {remote}: missing or wrong token; nothing changed"));
            Sender.Tell(Error(401, "a valid lab token is required (X-Lab-Token header); nothing was changed")
                with { Headers = [new("WWW-Authenticate", "Bearer realm=\"actors-lab\"")] });
            return;
        }
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["api", "nodes", var name, var verb])
        {
            name = WebUtility.UrlDecode(name);
            object? command = verb switch
            {
                "kill" => new KillNode(name, query.GetValueOrDefault("signal") is { Length: > 0 } s ? s : "KILL"),
                "restart" => new RestartNode(name),
                "leave" => new LeaveNode(name),
                _ => null,
            };
            if (command is null) { Sender.Tell(Error(404, $"unknown node action '{verb}' (kill, restart, leave)")); return; }
            _processFaults.Ask<object>(command, AskTimeout).PipeTo(Sender, success: FaultReply, failure: Unavailable);
            return;
        }
        try
        {
            switch (segments)
            {
                case ["api", "partition"]:
                    var (spec, oneWay) = PartitionRequest(request.Body, query);
                    _partitions.Ask<object>(new Partition(spec, oneWay), AskTimeout).PipeTo(Sender, success: FaultReply, failure: Unavailable);
                    return;
                case ["api", "report"]:
                    _status.Tell(ProcessReportParser.Parse(request.Body));
                    Sender.Tell(Json(200, new { ok = true }));
                    return;
                case ["api", "heal"]:
                    _partitions.Ask<object>(Heal.Instance, AskTimeout).PipeTo(Sender, success: FaultReply, failure: Unavailable);
                    return;
                case ["api", "links"]:
                    _links.Ask<object>(LinksApi.ParseAdd(request.Body), AskTimeout).PipeTo(Sender, success: LinksApi.Reply, failure: Unavailable);
                    return;
                case ["api", "links", "reset"]:
                    _links.Ask<object>(ResetLinks.Instance, AskTimeout).PipeTo(Sender, success: LinksApi.Reply, failure: Unavailable);
                    return;
                case ["api", "links", var link, "toxics"]:
                    AddToxics(_links, WebUtility.UrlDecode(link), LinksApi.ParseToxics(request.Body)).PipeTo(Sender, success: LinksApi.Reply, failure: Unavailable);
                    return;
                case ["api", "links", var link, "clear"]:
                    _links.Ask<object>(new ClearToxics(WebUtility.UrlDecode(link)), AskTimeout).PipeTo(Sender, success: LinksApi.Reply, failure: Unavailable);
                    return;
                case ["api", "links", var link, "remove"]:
                    _links.Ask<object>(new RemoveLink(WebUtility.UrlDecode(link)), AskTimeout).PipeTo(Sender, success: LinksApi.Reply, failure: Unavailable);
                    return;
            }
        }
        catch (ArgumentException ex)
        {
            Sender.Tell(Error(400, ex.Message));
            return;
        }
        Sender.Tell(Error(404, $"no such action: {path}"));
    }

    /// <summary>Toxics in order (both streams: two); the first refusal stops and is the answer.</summary>
    private static async Task<object> AddToxics(IActorRef links, string link, IReadOnlyList<Toxic> toxics)
    {
        object answer = new LinkError(link, "no toxic given");
        foreach (var toxic in toxics)
        {
            answer = await links.Ask<object>(new AddToxic(link, toxic), AskTimeout);
            if (answer is LinkError) break;
        }
        return answer;
    }

    /// <summary><c>{"spec":"minority","oneWay":false}</c>, or <c>?spec=…&amp;one-way=true</c>.</summary>
    private static (string Spec, bool OneWay) PartitionRequest(byte[] body, Dictionary<string, string> query)
    {
        string? spec = query.GetValueOrDefault("spec");
        var oneWay = query.GetValueOrDefault("one-way") is "true" or "1" or "on";
        if (body.Length > 0)
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("spec", out var s)) spec = s.GetString();
                if (doc.RootElement.TryGetProperty("oneWay", out var o)) oneWay = o.ValueKind == System.Text.Json.JsonValueKind.True;
            }
            catch (System.Text.Json.JsonException ex) { throw new ArgumentException($"the body is not JSON: {ex.Message}"); }
        }
        return (string.IsNullOrWhiteSpace(spec) ? throw new ArgumentException("a partition needs a spec: one, minority, majority, majorities-ring or NODE,NODE") : spec, oneWay);
    }

    private bool Authorized(Web.Http.HttpRequest request)
    {
        var given = request.Headers.Get("X-Lab-Token");
        var authorization = request.Headers.Get("Authorization");
        if (given is null && authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            given = authorization[7..].Trim();
        return given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);
    }

    private void Asset(string name, string contentType)
    {
        using var stream = typeof(LabApi).Assembly.GetManifestResourceStream("dashboard." + name);
        if (stream is null) { Sender.Tell(Error(404, $"{name} is not built in")); return; }
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        Sender.Tell(new HttpReply(200, contentType, memory.ToArray(), [new("Cache-Control", "no-cache")]));
    }

    private static HttpReply FaultReply(object answer) => answer switch
    {
        FaultDone done => Json(200, new { ok = true, message = done.Text }),
        FaultRefused refused => Error(refused.Status, refused.Reason),
        _ => Error(500, "unexpected answer"),
    };

    private static HttpReply Unavailable(Exception ex) => Error(503, $"the lab did not answer in time: {ex.Message}");

    public static HttpReply Json<T>(int status, T value) => new(status, "application/json", LabJson.Bytes(value));

    public static HttpReply Error(int status, string message) =>
        new(status, "application/json", LabJson.Bytes(new { ok = false, error = message }));
}
