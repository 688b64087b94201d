using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using Akka.Event;

namespace Actors.Lab.Agent;

/// <summary>
/// Where a process that is no cluster member sends its reports: the lab's URL and token. From
/// the <c>--lab URL</c> option, else <c>$ACTORS_LAB_URL</c>, else <c>.cluster/lab.url</c> (what
/// run-cluster's lab writes); the token from <c>$ACTORS_LAB_TOKEN</c>, else <c>.cluster/lab.token</c>.
/// "off" reports nowhere.
/// </summary>
public sealed record LabTarget(Uri Url, string Token)
{
    public static LabTarget? Resolve(string? url)
    {
        url = Nonempty(url) ?? Nonempty(Environment.GetEnvironmentVariable("ACTORS_LAB_URL")) ?? Read(".cluster/lab.url");
        if (url is null || url == "off") return null;
        if (!url.EndsWith('/')) url += "/";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http") return null;
        var token = Nonempty(Environment.GetEnvironmentVariable("ACTORS_LAB_TOKEN")) ?? Read(".cluster/lab.token") ?? "";
        return new LabTarget(uri, token);
    }

    private static string? Nonempty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
    private static string? Read(string path) => File.Exists(path) ? Nonempty(File.ReadAllText(path)) : null;
}

/// <summary>
/// The agent of a process that is no cluster member (the peer, the caller): every interval it POSTs
/// a <see cref="ProcessReport"/> (its meters' figures, its torrents, its calls) to the lab's HTTP
/// API. Why HTTP and not the cluster: these processes are deliberately plain ActorSystems (no
/// remoting, no gossip; thousands of peers, callers behind NATs), and the lab's API is already
/// there, token-checked, on loopback. One POST in flight at most (a slow lab costs a skipped tick,
/// never a queue); after a failure the target is resolved again (the lab may start later).
/// The owner pushes what changes: <see cref="SetTorrents"/>, <see cref="CallChanged"/>.
/// </summary>
public sealed class ProcessReporter : ReceiveActor, IWithTimers
{
    public const int MaxCalls = 20;

    /// <summary>The process's torrents as of now (replaces the previous list).</summary>
    public sealed record SetTorrents(IReadOnlyList<TorrentPeerView> Torrents);
    /// <summary>A call began, progressed or ended.</summary>
    public sealed record CallChanged(CallView Call);
    /// <summary>Send a report now (the process is about to exit); answered with <see cref="Flushed"/>.</summary>
    public sealed class Flush { public static readonly Flush Instance = new(); private Flush() { } }
    public sealed class Flushed { public static readonly Flushed Instance = new(); private Flushed() { } }

    private sealed class Tick { public static readonly Tick Instance = new(); }
    private sealed record Posted(string? Error);

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Func<LabTarget?> _resolve;
    private readonly string _node;
    private readonly IReadOnlyList<string> _roles;
    private readonly MetricsReader _metrics;
    private readonly long _startedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly Dictionary<string, CallView> _calls = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private LabTarget? _target;
    private IReadOnlyList<TorrentPeerView> _torrents = [];
    private bool _inFlight, _warned, _changedInFlight;
    /// <summary>Who asked for a <see cref="Flush"/>: answered once a report holding everything up to then has been sent.</summary>
    private readonly List<IActorRef> _flushWaiters = [];

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="labOption">the --lab option (null: environment, then .cluster/lab.url).</param>
    public static Props Props(string? labOption, string node, IReadOnlyList<string> roles, TimeSpan? interval = null) =>
        Props(() => LabTarget.Resolve(labOption), node, roles, interval);

    /// <summary>A reporter to a known lab (tests).</summary>
    public static Props Props(LabTarget target, string node, IReadOnlyList<string> roles, TimeSpan? interval = null) =>
        Props(() => target, node, roles, interval);

    private static Props Props(Func<LabTarget?> resolve, string node, IReadOnlyList<string> roles, TimeSpan? interval)
    {
        var metrics = MetricsReader.Shared;
        var every = interval ?? TimeSpan.FromSeconds(1);
        return Akka.Actor.Props.Create(() => new ProcessReporter(resolve, node, roles, metrics, every));
    }

    public ProcessReporter(Func<LabTarget?> resolve, string node, IReadOnlyList<string> roles, MetricsReader metrics, TimeSpan interval)
    {
        _resolve = resolve;
        _node = node;
        _roles = roles;
        _metrics = metrics;
        _target = resolve();
        Receive<SetTorrents>(s => { _torrents = s.Torrents; _changedInFlight |= _inFlight; });
        Receive<CallChanged>(OnCallChanged);
        Receive<Tick>(_ => Send());
        Receive<Flush>(_ => { _flushWaiters.Add(Sender); if (!_inFlight) Send(); });
        Receive<Posted>(OnPosted);
        _interval = interval;
    }

    private readonly TimeSpan _interval;
    private long _retryAfterUnixMs;

    protected override void PreStart() => Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, _interval);

    private void OnCallChanged(CallChanged changed)
    {
        _calls[changed.Call.CallId + "/" + changed.Call.Role] = changed.Call;
        // Ended calls stay (the dashboard shows their figures) until newer ones push them out.
        foreach (var old in _calls.OrderByDescending(c => c.Value.UpdatedUnixMs).Skip(MaxCalls).Select(c => c.Key).ToList())
            _calls.Remove(old);
        _changedInFlight |= _inFlight;
        Send(); // a call's start and end show at once
    }

    private void Send()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (_target is null && now >= _retryAfterUnixMs) _target = _resolve();
        if (_inFlight) return;
        if (_target is null)
        {
            ReplyFlushed();
            return;
        }
        _inFlight = true;
        _changedInFlight = false;
        var report = new ProcessReport(_node, _roles, Environment.ProcessId, _startedUnixMs, now, _metrics.Snapshot(), _torrents, _calls.Values.ToList());
        Post(_target, report).PipeTo(Self, success: error => new Posted(error), failure: ex => new Posted(ex.Message));
    }

    private static async Task<string?> Post(LabTarget target, ProcessReport report)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target.Url, "api/report"))
        {
            Content = JsonContent.Create(report, options: Json),
        };
        request.Headers.Add("X-Lab-Token", target.Token);
        try
        {
            using var response = await Http.SendAsync(request);
            return response.IsSuccessStatusCode ? null : $"the lab answered {(int)response.StatusCode}";
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return ex.Message;
        }
    }

    private void ReplyFlushed()
    {
        foreach (var waiter in _flushWaiters) waiter.Tell(Flushed.Instance);
        _flushWaiters.Clear();
    }

    private void OnPosted(Posted posted)
    {
        _inFlight = false;
        if (_flushWaiters.Count > 0 && _changedInFlight && posted.Error is null) Send(); // what changed meanwhile goes too
        else ReplyFlushed();
        if (posted.Error is null) { _warned = false; return; }
        // Info, not a warning: reporting is a courtesy; the peer's and caller's own output must stay theirs.
        if (!_warned) _log.Info("Cannot report to the lab at {0}: {1} (will retry in 10 s)", _target?.Url, posted.Error);
        _warned = true;
        _target = null; // resolve again in a while: the lab may have moved, not be up yet, or want another token
        _retryAfterUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 10_000;
    }
}
