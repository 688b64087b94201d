using System.Net;
using Actors.Net.Logging;
using Actors.Net.Udp;
using Actors.Torrent.Metainfo;
using Actors.Web.Client;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer.Announce;

/// <summary>
/// Announces one torrent to its trackers and tells its parent about the peers it learns.
/// Re-announces on the tracker's interval, sooner (min interval, at least 10 s) when the parent
/// asks for more peers. Trackers follow BEP 12: the tiers in order, the URLs of a tier in order,
/// the first that answers wins and moves to the front of its tier; a failing URL falls through to
/// the next, whatever its scheme, so a torrent listing both a UDP and an HTTP tracker falls back
/// from one to the other. <c>http://</c> announces go to the <see cref="HttpClientActor"/> as
/// <see cref="HttpGet"/>, <c>udp://</c> ones (BEP 15) to the <see cref="UdpAnnouncer"/> child.
/// </summary>
public sealed class Announcer : ReceiveActor, IWithTimers
{
    /// <summary>Latest transfer totals, pushed by the torrent actor.</summary>
    public sealed record Totals(long Uploaded, long Downloaded, long Left);
    /// <summary>Announce now with this event (completed, stopped); answered with <see cref="Announced"/> for stopped.</summary>
    public sealed record AnnounceNow(AnnounceEvent Event);
    public sealed record PeersDiscovered(IReadOnlyList<IPEndPoint> Peers)
    {
        /// <summary>Seeders the tracker counts in the swarm, when it says (null from other sources: DHT).</summary>
        public int? Seeders { get; init; }
    }
    public sealed record Announced(AnnounceEvent Event, bool Ok);
    /// <summary>Told to the parent after an announce no tracker answered, when it asked for that (the magnet phase names them when it gives up).</summary>
    public sealed record AnnounceFailed(string Error);
    /// <summary>The torrent has no one to talk to: announce early (at most every 10 s, never before min interval).</summary>
    public sealed class NeedPeers { public static readonly NeedPeers Instance = new(); private NeedPeers() { } }

    /// <summary>One announce, trying the tracker URLs in order until one answers; <see cref="Position"/> counts over all tiers.</summary>
    private sealed record Attempt(long Id, AnnounceEvent Event, AnnounceRequest Request, int Position, string? Error, IActorRef? ReplyTo)
    {
        /// <summary>The URL being tried (set when it is sent).</summary>
        public string Url { get; init; } = "";
    }
    private sealed class Tick { public static readonly Tick Instance = new(); }

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);
    /// <summary>Thousands of torrents in one process fail together when the tracker is down: one line per interval for all of them.</summary>
    private static readonly LogEvery FailureLog = new(TimeSpan.FromSeconds(10));

    private readonly ReadOnlyMemory<byte> _infoHash;
    private readonly bool _reportFailures;
    private readonly byte[] _peerId;
    private readonly int _port;
    private readonly IActorRef _http;
    private readonly UdpAnnounceSettings _udpSettings;
    private IActorRef? _udp;
    /// <summary>BEP 12 tiers of usable URLs; a URL that answers moves to the front of its tier.</summary>
    private readonly List<List<string>> _tiers;
    private long _nextAttempt;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Uri, Attempt> _attempts = new();
    private readonly Dictionary<long, Attempt> _udpAttempts = new();
    private Totals _totals;
    private bool _inFlight;
    private AnnounceEvent _pending = AnnounceEvent.Started;
    private TimeSpan _interval = TimeSpan.FromMinutes(30);
    private TimeSpan _minInterval = TimeSpan.FromSeconds(10);
    private DateTime _lastAnnounce = DateTime.MinValue;
    private int _failures;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="http">An <see cref="HttpClientActor"/>, possibly shared by many torrents.</param>
    /// <param name="udp">Timing of UDP announces (BEP 15 defaults when null).</param>
    public static Props Props(TorrentMetainfo torrent, byte[] peerId, int port, IActorRef http, Totals totals, UdpAnnounceSettings? udp = null) =>
        Props(torrent.InfoHash, torrent.TrackerTiers, peerId, port, http, totals, udp);

    /// <summary>Before the torrent is known (a magnet link): its info-hash and trackers alone.</summary>
    /// <param name="reportFailures">Tell the parent <see cref="AnnounceFailed"/> after every announce no tracker answered.</param>
    public static Props Props(ReadOnlyMemory<byte> infoHash, IReadOnlyList<IReadOnlyList<string>> tiers, byte[] peerId, int port, IActorRef http,
        Totals totals, UdpAnnounceSettings? udp = null, bool reportFailures = false) =>
        Akka.Actor.Props.Create(() => new Announcer(infoHash, tiers, peerId, port, http, totals, udp ?? UdpAnnounceSettings.Default, reportFailures));

    public Announcer(ReadOnlyMemory<byte> infoHash, IReadOnlyList<IReadOnlyList<string>> tiers, byte[] peerId, int port, IActorRef http,
        Totals totals, UdpAnnounceSettings udp, bool reportFailures)
    {
        _infoHash = infoHash;
        _reportFailures = reportFailures;
        _peerId = peerId;
        _port = port;
        _http = http;
        _totals = totals;
        _udpSettings = udp;
        _tiers = tiers
            .Select(tier => tier.Where(IsUsable).Distinct().ToList())
            .Where(tier => tier.Count > 0)
            .ToList();
        Receive<Totals>(t => _totals = t);
        Receive<Tick>(_ => Start(_pending == AnnounceEvent.Started ? AnnounceEvent.Started : AnnounceEvent.None, null));
        Receive<AnnounceNow>(a => Start(a.Event, a.Event == AnnounceEvent.Stopped ? Sender : null));
        Receive<HttpGetSucceeded>(OnSucceeded);
        Receive<HttpGetFailed>(failed => Next(failed.Url, $"{failed.Url.GetLeftPart(UriPartial.Path)}: {failed.Reason}"));
        Receive<UdpAnnouncer.Succeeded>(OnUdpSucceeded);
        Receive<UdpAnnouncer.Failed>(failed =>
        {
            if (_udpAttempts.Remove(failed.Id, out var attempt))
                Try(attempt with { Position = attempt.Position + 1, Error = failed.Reason });
        });
        Receive<NeedPeers>(_ =>
        {
            if (!_inFlight && DateTime.UtcNow - _lastAnnounce >= _minInterval) Self.Tell(Tick.Instance);
        });
    }

    protected override void PreStart() => Self.Tell(Tick.Instance);

    private static bool IsUsable(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || UdpTrackerAnnounce.ParseUrl(url) is not null;

    /// <summary>The URL at <paramref name="position"/> counted over all tiers in order, with its tier and index there.</summary>
    private (string Url, int Tier, int Index)? At(int position)
    {
        for (var tier = 0; tier < _tiers.Count; tier++)
        {
            if (position < _tiers[tier].Count) return (_tiers[tier][position], tier, position);
            position -= _tiers[tier].Count;
        }
        return null;
    }

    /// <summary>BEP 12: a tracker that answered moves to the front of its tier, so it is tried first next time.</summary>
    private void Promote(string url)
    {
        foreach (var tier in _tiers)
        {
            var index = tier.IndexOf(url);
            if (index <= 0) continue;
            tier.RemoveAt(index);
            tier.Insert(0, url);
            return;
        }
    }

    private void Start(AnnounceEvent announceEvent, IActorRef? replyTo)
    {
        if (_inFlight && replyTo is null)
        {
            if (announceEvent != AnnounceEvent.None) _pending = announceEvent;
            return;
        }
        if (_tiers.Count == 0)
        {
            replyTo?.Tell(new Announced(announceEvent, false));
            return;
        }
        _inFlight = true;
        _lastAnnounce = DateTime.UtcNow;
        var request = new AnnounceRequest(_infoHash, _peerId, _port, _totals.Uploaded, _totals.Downloaded, _totals.Left,
            announceEvent, announceEvent == AnnounceEvent.Stopped ? 0 : 50);
        Try(new Attempt(++_nextAttempt, announceEvent, request, 0, null, replyTo));
    }

    private void Try(Attempt attempt)
    {
        for (var position = attempt.Position; At(position) is { } at; position++)
        {
            var url = at.Url;
            if (UdpTrackerAnnounce.ParseUrl(url) is { } tracker)
            {
                if (_udp is null)
                {
                    DatagramMailbox.Ensure(Context.System);
                    _udp = Context.ActorOf(UdpAnnouncer.Props(_udpSettings), "udp");
                }
                _udpAttempts[attempt.Id] = attempt with { Position = position, Url = url };
                _udp.Tell(new UdpAnnouncer.Request(attempt.Id, url, tracker, attempt.Request));
                return;
            }
            Uri built;
            try
            {
                built = TrackerAnnounce.BuildUrl(url, attempt.Request);
            }
            catch (UriFormatException ex)
            {
                attempt = attempt with { Error = $"{url}: {ex.Message}" };
                continue;
            }
            _attempts[built] = attempt with { Position = position, Url = url };
            _http.Tell(new HttpGet(built, RequestTimeout));
            return;
        }
        Completed(attempt, null);
    }

    private void OnUdpSucceeded(UdpAnnouncer.Succeeded succeeded)
    {
        if (!_udpAttempts.Remove(succeeded.Id, out var attempt)) return;
        Promote(attempt.Url);
        Completed(attempt, succeeded.Response);
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
        AnnounceResponse response;
        try
        {
            response = TrackerAnnounce.ParseResponse(body);
        }
        catch (AnnounceException ex)
        {
            Try(attempt with { Position = attempt.Position + 1, Error = $"{succeeded.Url.GetLeftPart(UriPartial.Path)}: {ex.Message}" });
            return;
        }
        Promote(attempt.Url);
        Completed(attempt, response);
    }

    private void Next(Uri url, string error)
    {
        if (_attempts.Remove(url, out var attempt))
            Try(attempt with { Position = attempt.Position + 1, Error = error });
    }

    private void Completed(Attempt attempt, AnnounceResponse? response)
    {
        _inFlight = false;
        attempt.ReplyTo?.Tell(new Announced(attempt.Event, response is not null));
        if (attempt.Event == AnnounceEvent.Stopped) return;
        if (response is not null)
        {
            _log.Info("Announced {0} to {1}: {2} peers, next in {3}", attempt.Event, attempt.Url, response.Peers.Count, response.Interval);
            _interval = response.Interval;
            _minInterval = response.MinInterval is { } min && min > TimeSpan.FromSeconds(10) ? min : TimeSpan.FromSeconds(10);
            if (attempt.Event == AnnounceEvent.Started || _pending == AnnounceEvent.Started) _pending = AnnounceEvent.None;
            Context.Parent.Tell(new PeersDiscovered(response.Peers) { Seeders = response.Seeders });
        }
        else
        {
            // An overloaded tracker is not hammered: retries back off 10 s, 20 s, ... 5 min (with
            // jitter, so thousands of torrents spread out), and NeedPeers waits as long.
            _failures++;
            if (_reportFailures) Context.Parent.Tell(new AnnounceFailed(attempt.Error ?? "no tracker answered"));
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
