using System.Net;
using Actors.Torrent.Metainfo;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer.Announce;

/// <summary>
/// Announces one torrent to its trackers (BEP 12 tiers, first answering URL wins) and tells its
/// parent about the peers it learns. Re-announces on the tracker's interval, sooner (min
/// interval, at least 5 s) when the parent asks for more peers. The HTTP request runs as a task
/// whose result is piped back to this actor.
/// </summary>
public sealed class Announcer : ReceiveActor, IWithTimers
{
    /// <summary>Latest transfer totals, pushed by the torrent actor.</summary>
    public sealed record Totals(long Uploaded, long Downloaded, long Left);
    /// <summary>Announce now with this event (completed, stopped); answered with <see cref="Announced"/> for stopped.</summary>
    public sealed record AnnounceNow(AnnounceEvent Event);
    public sealed record PeersDiscovered(IReadOnlyList<IPEndPoint> Peers);
    public sealed record Announced(AnnounceEvent Event, bool Ok);
    /// <summary>The torrent has no one to talk to: announce early (at most every 10 s, never before min interval).</summary>
    public sealed class NeedPeers { public static readonly NeedPeers Instance = new(); private NeedPeers() { } }

    private sealed record Result(AnnounceEvent Event, AnnounceResponse? Response, string? Error, IActorRef? ReplyTo);
    private sealed class Tick { public static readonly Tick Instance = new(); }

    private readonly TorrentMetainfo _torrent;
    private readonly byte[] _peerId;
    private readonly int _port;
    private readonly IHttpGetter _http;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Totals _totals;
    private bool _inFlight;
    private AnnounceEvent _pending = AnnounceEvent.Started;
    private TimeSpan _interval = TimeSpan.FromMinutes(30);
    private TimeSpan _minInterval = TimeSpan.FromSeconds(10);
    private DateTime _lastAnnounce = DateTime.MinValue;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TorrentMetainfo torrent, byte[] peerId, int port, IHttpGetter http, Totals totals) =>
        Akka.Actor.Props.Create(() => new Announcer(torrent, peerId, port, http, totals));

    public Announcer(TorrentMetainfo torrent, byte[] peerId, int port, IHttpGetter http, Totals totals)
    {
        _torrent = torrent;
        _peerId = peerId;
        _port = port;
        _http = http;
        _totals = totals;
        Receive<Totals>(t => _totals = t);
        Receive<Tick>(_ => Start(_pending == AnnounceEvent.Started ? AnnounceEvent.Started : AnnounceEvent.None, null));
        Receive<AnnounceNow>(a => Start(a.Event, a.Event == AnnounceEvent.Stopped ? Sender : null));
        Receive<Result>(Completed);
        Receive<NeedPeers>(_ =>
        {
            if (!_inFlight && DateTime.UtcNow - _lastAnnounce >= _minInterval) Self.Tell(Tick.Instance);
        });
    }

    protected override void PreStart() => Self.Tell(Tick.Instance);

    private void Start(AnnounceEvent announceEvent, IActorRef? replyTo)
    {
        if (_inFlight && replyTo is null)
        {
            if (announceEvent != AnnounceEvent.None) _pending = announceEvent;
            return;
        }
        var urls = _torrent.TrackerTiers.SelectMany(t => t).Where(u => u.StartsWith("http", StringComparison.OrdinalIgnoreCase)).ToArray();
        if (urls.Length == 0)
        {
            replyTo?.Tell(new Announced(announceEvent, false));
            return;
        }
        _inFlight = true;
        _lastAnnounce = DateTime.UtcNow;
        var request = new AnnounceRequest(_torrent.InfoHash, _peerId, _port, _totals.Uploaded, _totals.Downloaded, _totals.Left,
            announceEvent, announceEvent == AnnounceEvent.Stopped ? 0 : 50);
        var http = _http;
        AnnounceAsync(http, urls, request).PipeTo(Self,
            success: r => new Result(announceEvent, r.Response, r.Error, replyTo),
            failure: ex => new Result(announceEvent, null, ex.Message, replyTo));
    }

    private static async Task<(AnnounceResponse? Response, string? Error)> AnnounceAsync(IHttpGetter http, string[] urls, AnnounceRequest request)
    {
        string? error = null;
        foreach (var url in urls)
        {
            try
            {
                var body = await http.GetAsync(TrackerAnnounce.BuildUrl(url, request), TimeSpan.FromSeconds(15)).ConfigureAwait(false);
                return (TrackerAnnounce.ParseResponse(body), null);
            }
            catch (Exception ex) when (ex is HttpGetException or AnnounceException or UriFormatException)
            {
                error = $"{url}: {ex.Message}";
            }
        }
        return (null, error);
    }

    private void Completed(Result result)
    {
        _inFlight = false;
        result.ReplyTo?.Tell(new Announced(result.Event, result.Response is not null));
        if (result.Event == AnnounceEvent.Stopped) return;
        if (result.Response is { } response)
        {
            _log.Info("Announced {0} to tracker: {1} peers, next in {2}", result.Event, response.Peers.Count, response.Interval);
            _interval = response.Interval;
            _minInterval = response.MinInterval is { } min && min > TimeSpan.FromSeconds(10) ? min : TimeSpan.FromSeconds(10);
            if (result.Event == AnnounceEvent.Started || _pending == AnnounceEvent.Started) _pending = AnnounceEvent.None;
            Context.Parent.Tell(new PeersDiscovered(response.Peers));
        }
        else
        {
            _log.Warning("Announce failed: {0}", result.Error);
        }
        var next = result.Response is null ? TimeSpan.FromSeconds(10) : _interval;
        Timers.StartSingleTimer(Tick.Instance, Tick.Instance, next);
        if (_pending is AnnounceEvent.Completed)
        {
            _pending = AnnounceEvent.None;
            Start(AnnounceEvent.Completed, null);
        }
    }
}
