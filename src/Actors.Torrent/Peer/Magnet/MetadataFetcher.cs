using System.Diagnostics;
using System.Net;
using Actors.Net.Tcp;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Peer.Connections;
using Actors.Web.Client;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer.Magnet;

/// <summary>
/// Turns a magnet link into a torrent (BEP 9): announces to every tracker of the link (HTTP and
/// UDP, each through an <see cref="Announcer"/> child of its own, so all are asked at once), dials the
/// peers they name, the link's <c>x.pe</c> peers and those any other source tells it as
/// <see cref="Announcer.PeersDiscovered"/> (the DHT's <c>DhtPeerSource</c>, as it tells a torrent)
/// — a few at once, within the process's <see cref="ConnectionBudget"/> — and lets each
/// <see cref="MetadataConnection"/> fetch the info
/// dictionary. The first one that hashes to the info-hash wins; a peer that sends one that does
/// not is never asked again. Answers <see cref="FetchMetadata"/> with <see cref="MetadataResolved"/>
/// (then stops its connections) or, when asked to give up, <see cref="MetadataFailed"/>.
/// </summary>
public sealed class MetadataFetcher : ReceiveActor, IWithTimers
{
    /// <summary>Stop trying; answered (to the <see cref="FetchMetadata"/> askers) with <see cref="MetadataFailed"/> saying what was tried.</summary>
    public sealed class GiveUp { public static readonly GiveUp Instance = new(); private GiveUp() { } }
    private sealed class Tick { public static readonly Tick Instance = new(); }

    private readonly MagnetLink _link;
    private readonly MagnetSettings _settings;
    private readonly IActorRef _http;
    private readonly ConnectionBudget _budget;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<IPEndPoint> _candidates = new();
    private readonly HashSet<IPEndPoint> _known = new(), _bad = new();
    private readonly Dictionary<IActorRef, IPEndPoint> _asking = new();
    private readonly HashSet<IActorRef> _announcers = new();
    private readonly List<IActorRef> _waiting = new();
    private readonly List<string> _announceErrors = new();
    private long _lastAnnounce;
    private int _tried, _fromOtherSources;
    private object? _result;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MagnetLink link, MagnetSettings settings, IActorRef http, ConnectionBudget? budget = null) =>
        Akka.Actor.Props.Create(() => new MetadataFetcher(link, settings, http, budget ?? ConnectionBudget.Unshared()));

    public MetadataFetcher(MagnetLink link, MagnetSettings settings, IActorRef http, ConnectionBudget budget)
    {
        _link = link;
        _settings = settings;
        _http = http;
        _budget = budget;
        Receive<FetchMetadata>(_ =>
        {
            if (_result is not null) Sender.Tell(_result);
            else _waiting.Add(Sender);
        });
        Receive<Announcer.PeersDiscovered>(OnDiscovered);
        Receive<Announcer.AnnounceFailed>(failed =>
        {
            if (_announceErrors.Count < MaxAnnounceErrors) _announceErrors.Add(failed.Error);
        });
        Receive<MetadataFetched>(OnFetched);
        Receive<MetadataBad>(bad =>
        {
            _bad.Add(bad.From);
            DialMore();
        });
        Receive<Terminated>(terminated =>
        {
            _asking.Remove(terminated.ActorRef);
            DialMore();
        });
        Receive<Tick>(_ =>
        {
            DialMore();
            if (_asking.Count == 0 && _candidates.Count == 0 && Stopwatch.GetElapsedTime(_lastAnnounce) > _settings.ReannounceAfter) AnnounceAgain();
        });
        Receive<GiveUp>(_ => Finish(new MetadataFailed(
            $"no peer sent the metadata (asked {_tried} peer(s), {_bad.Count} sent bad metadata"
            + (_fromOtherSources > 0 ? $"; {_fromOtherSources} peer(s) came from the DHT or other sources" : "")
            + (_link.Trackers.Count == 0 && _link.Peers.Count == 0 && _fromOtherSources == 0
                ? "; the magnet link names no tracker (tr=) and no peer (x.pe=), and no other source (--dht-bootstrap) found one" : "")
            + (_announceErrors.Count > 0 ? "; " + string.Join("; ", _announceErrors.Distinct().Take(3)) : "") + ")")));
    }

    protected override void PreStart()
    {
        foreach (var peer in _link.Peers) AddCandidate(peer);
        StartAnnouncers();
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, TimeSpan.FromSeconds(1));
        DialMore();
    }

    private void StartAnnouncers()
    {
        _lastAnnounce = Stopwatch.GetTimestamp();
        // Left is unknown before the metadata: a non-zero guess, so the tracker treats us as a leecher and names its seeds.
        var totals = new Announcer.Totals(0, 0, MetadataFetcherLeft);
        var port = _settings.ListenPort > 0 ? _settings.ListenPort : 6881;
        foreach (var tracker in _link.Trackers.Distinct())
        {
            // A tier of its own each: every tracker is asked, not only the first that answers (BEP 12 would stop there).
            var announcer = Context.ActorOf(Announcer.Props(_link.InfoHash, [[tracker]], _settings.PeerId, port, _http, totals, reportFailures: true));
            _announcers.Add(announcer);
        }
    }

    /// <summary>Nobody left to ask: every announcer announces early (each keeps its tracker's min interval).</summary>
    private void AnnounceAgain()
    {
        _lastAnnounce = Stopwatch.GetTimestamp();
        foreach (var announcer in _announcers) announcer.Tell(Announcer.NeedPeers.Instance);
    }

    /// <summary>What we tell trackers is left before the size is known (libtorrent sends a guess of the same kind).</summary>
    private const long MetadataFetcherLeft = 16 * 1024;

    /// <summary>Announce errors kept for the final message (a tracker that keeps failing is retried for as long as the fetch lasts).</summary>
    private const int MaxAnnounceErrors = 50;

    // Peers from the link's trackers (our announcers) or from the DHT (or any other source).
    private void OnDiscovered(Announcer.PeersDiscovered discovered)
    {
        if (_result is not null) return;
        var fromTracker = _announcers.Contains(Sender);
        foreach (var peer in discovered.Peers.Take(MaxPeersPerMessage))
            if (AddCandidate(peer) && !fromTracker) _fromOtherSources++;
        if (fromTracker) _log.Info("Magnet {0}: tracker named {1} peer(s)", _link.InfoHashHex, discovered.Peers.Count);
        DialMore();
    }

    /// <summary>More than a DHT lookup returns (500): a bound, not a limit one hits.</summary>
    private const int MaxPeersPerMessage = 1000;

    /// <summary>Candidates kept in all: a source cannot grow the fetcher without bound.</summary>
    private const int MaxKnownPeers = 10_000;

    /// <returns>true when the peer is new.</returns>
    private bool AddCandidate(IPEndPoint peer)
    {
        var normal = new IPEndPoint(Endpoints.Normalize(peer.Address), peer.Port);
        if (normal.Port == _settings.ListenPort && IPAddress.IsLoopback(normal.Address)) return false; // ourselves
        if (_known.Count >= MaxKnownPeers || !_known.Add(normal)) return false;
        _candidates.Add(normal);
        return true;
    }

    private void DialMore()
    {
        if (_result is not null) return;
        while (_asking.Count < _settings.MaxConnections && _candidates.Count > 0)
        {
            var next = _candidates[0];
            if (_bad.Contains(next))
            {
                _candidates.RemoveAt(0);
                continue;
            }
            if (!_budget.TryStartDial()) return; // the next tick tries again
            _candidates.RemoveAt(0);
            _tried++;
            var connection = Context.ActorOf(MetadataConnection.Props(next, _link.InfoHash, _settings, _budget));
            Context.Watch(connection);
            _asking[connection] = next;
        }
    }

    private void OnFetched(MetadataFetched fetched)
    {
        if (_result is not null) return;
        try
        {
            var file = MetadataTorrent.Build(fetched.RawInfo, _link.Trackers);
            var torrent = TorrentMetainfo.Parse(file);
            _log.Info("Magnet {0}: metadata ({1} bytes) from {2}", _link.InfoHashHex, fetched.RawInfo.Length, Endpoints.Format(fetched.From));
            // Every peer we know of, the one that answered first: the torrent dials them at once.
            var peers = new[] { fetched.From }.Concat(_known.Where(p => !_bad.Contains(p) && !p.Equals(fetched.From))).ToArray();
            Finish(new MetadataResolved(torrent, file, peers, _bad.Count));
        }
        catch (MetainfoException ex)
        {
            // It hashes to the info-hash, so it is what the link names: the torrent itself is unusable.
            Finish(new MetadataFailed($"the torrent named by the magnet link is not usable: {ex.Message}"));
        }
    }

    private void Finish(object result)
    {
        if (_result is not null) return;
        _result = result;
        foreach (var waiter in _waiting) waiter.Tell(result);
        _waiting.Clear();
        foreach (var connection in _asking.Keys) Context.Stop(connection);
        _asking.Clear();
        foreach (var announcer in _announcers) Context.Stop(announcer);
        _announcers.Clear();
        Timers.CancelAll();
    }
}
