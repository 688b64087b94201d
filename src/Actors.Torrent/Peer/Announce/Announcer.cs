using System.Net;
using Actors.Net.Logging;
using Actors.Torrent.Metainfo;
using Actors.Web.Client;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer.Announce;

/// <summary>
/// Announces one torrent to its trackers (BEP 12 tiers, first answering URL wins) and tells its
/// parent about the peers it learns. Re-announces on the tracker's interval, sooner (min
/// interval, at least 10 s) when the parent asks for more peers. Requests go to the
/// <see cref="HttpClientActor"/> as <see cref="HttpGet"/>; its answers come back as messages.
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

    /// <summary>One announce, trying the tracker URLs in order until one answers.</summary>
    private sealed record Attempt(AnnounceEvent Event, AnnounceRequest Request, int UrlIndex, string? Error, IActorRef? ReplyTo);
    private sealed class Tick { public static readonly Tick Instance = new(); }

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);
    /// <summary>Thousands of torrents in one process fail together when the tracker is down: one line per interval for all of them.</summary>
    private static readonly LogEvery FailureLog = new(TimeSpan.FromSeconds(10));

    private readonly TorrentMetainfo _torrent;
    private readonly byte[] _peerId;
    private readonly int _port;
    private readonly IActorRef _http;
    private readonly string[] _urls;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Uri, Attempt> _attempts = new();
    private Totals _totals;
    private bool _inFlight;
    private AnnounceEvent _pending = AnnounceEvent.Started;
    private TimeSpan _interval = TimeSpan.FromMinutes(30);
    private TimeSpan _minInterval = TimeSpan.FromSeconds(10);
    private DateTime _lastAnnounce = DateTime.MinValue;
    private int _failures;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="http">An <see cref="HttpClientActor"/>, possibly shared by many torrents.</param>
    public static Props Props(TorrentMetainfo torrent, byte[] peerId, int port, IActorRef http, Totals totals) =>
        Akka.Actor.Props.Create(() => new Announcer(torrent, peerId, port, http, totals));

    public Announcer(TorrentMetainfo torrent, byte[] peerId, int port, IActorRef http, Totals totals)
    {
        _torrent = torrent;
        _peerId = peerId;
        _port = port;
        _http = http;
        _totals = totals;
        _urls = torrent.TrackerTiers.SelectMany(t => t).Where(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)).ToArray();
        Receive<Totals>(t => _totals = t);
        Receive<Tick>(_ => Start(_pending == AnnounceEvent.Started ? AnnounceEvent.Started : AnnounceEvent.None, null));
        Receive<AnnounceNow>(a => Start(a.Event, a.Event == AnnounceEvent.Stopped ? Sender : null));
        Receive<HttpGetSucceeded>(OnSucceeded);
        Receive<HttpGetFailed>(failed => Next(failed.Url, $"{failed.Url.GetLeftPart(UriPartial.Path)}: {failed.Reason}"));
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
        if (_urls.Length == 0)
        {
            replyTo?.Tell(new Announced(announceEvent, false));
            return;
        }
        _inFlight = true;
        _lastAnnounce = DateTime.UtcNow;
        var request = new AnnounceRequest(_torrent.InfoHash, _peerId, _port, _totals.Uploaded, _totals.Downloaded, _totals.Left,
            announceEvent, announceEvent == AnnounceEvent.Stopped ? 0 : 50);
        Try(new Attempt(announceEvent, request, 0, null, replyTo));
    }

    private void Try(Attempt attempt)
    {
        for (var index = attempt.UrlIndex; index < _urls.Length; index++)
        {
            Uri url;
            try
            {
                url = TrackerAnnounce.BuildUrl(_urls[index], attempt.Request);
            }
            catch (UriFormatException ex)
            {
                attempt = attempt with { Error = $"{_urls[index]}: {ex.Message}" };
                continue;
            }
            _attempts[url] = attempt with { UrlIndex = index };
            _http.Tell(new HttpGet(url, RequestTimeout));
            return;
        }
        Completed(attempt, null);
    }

    private void OnSucceeded(HttpGetSucceeded succeeded)
    {
        var body = succeeded.Response.Body;
        // A tracker's failure reason may come with 400 (opentracker): read any bencoded dictionary.
        if (succeeded.Response.Status != 200 && !(body.Length > 0 && body[0] == (byte)'d'))
        {
            Next(succeeded.Url, $"{succeeded.Url.GetLeftPart(UriPartial.Path)} answered {succeeded.Response.Status}");
            return;
        }
        if (!_attempts.Remove(succeeded.Url, out var attempt)) return;
        try
        {
            Completed(attempt, TrackerAnnounce.ParseResponse(body));
        }
        catch (AnnounceException ex)
        {
            Try(attempt with { UrlIndex = attempt.UrlIndex + 1, Error = $"{succeeded.Url.GetLeftPart(UriPartial.Path)}: {ex.Message}" });
        }
    }

    private void Next(Uri url, string error)
    {
        if (_attempts.Remove(url, out var attempt))
            Try(attempt with { UrlIndex = attempt.UrlIndex + 1, Error = error });
    }

    private void Completed(Attempt attempt, AnnounceResponse? response)
    {
        _inFlight = false;
        attempt.ReplyTo?.Tell(new Announced(attempt.Event, response is not null));
        if (attempt.Event == AnnounceEvent.Stopped) return;
        if (response is not null)
        {
            _log.Info("Announced {0} to tracker: {1} peers, next in {2}", attempt.Event, response.Peers.Count, response.Interval);
            _interval = response.Interval;
            _minInterval = response.MinInterval is { } min && min > TimeSpan.FromSeconds(10) ? min : TimeSpan.FromSeconds(10);
            if (attempt.Event == AnnounceEvent.Started || _pending == AnnounceEvent.Started) _pending = AnnounceEvent.None;
            Context.Parent.Tell(new PeersDiscovered(response.Peers));
        }
        else
        {
            // An overloaded tracker is not hammered: retries back off 10 s, 20 s, ... 5 min (with
            // jitter, so thousands of torrents spread out), and NeedPeers waits as long.
            _failures++;
            var retry = TimeSpan.FromSeconds(Math.Min(MaxRetryAfter.TotalSeconds, 10 * Math.Pow(2, Math.Min(_failures - 1, 10)))
                * (0.75 + 0.5 * Random.Shared.NextDouble()));
            _minInterval = retry;
            if (FailureLog.ShouldLog(out var count))
                _log.Warning("Announce failed: {0}; retrying in {1:F0} s ({2} failed announces in this process since the last warning)",
                    attempt.Error, retry.TotalSeconds, count);
            Timers.StartSingleTimer(Tick.Instance, Tick.Instance, retry);
            return;
        }
        _failures = 0;
        Timers.StartSingleTimer(Tick.Instance, Tick.Instance, _interval);
        if (_pending is AnnounceEvent.Completed)
        {
            _pending = AnnounceEvent.None;
            Start(AnnounceEvent.Completed, null);
        }
    }
}
