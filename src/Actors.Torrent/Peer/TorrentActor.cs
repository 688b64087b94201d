using System.Diagnostics;
using System.Net;
using Actors.Net.RateLimit;
using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Peer.Choking;
using Actors.Torrent.Peer.Connections;
using Actors.Torrent.Peer.Picking;
using Actors.Torrent.Peer.Storage;
using Actors.Web.Client;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

/// <summary>
/// One torrent in one peer: the swarm brain. Checks what is on disk (resume), listens for
/// peers, announces, dials a bounded number of peers, hands out block requests through the
/// <see cref="PiecePicker"/>, sends completed pieces to storage for SHA-1 verification, tells
/// every peer about each verified piece, bans peers that keep sending bad data, and runs the
/// <see cref="Choker"/>. Keeps seeding after completion until stopped.
/// <para>
/// Connections come out of the process's <see cref="ConnectionBudget"/>: the torrent dials only
/// up to its fair share, only when the budget, the half-open limit and the connect rate allow,
/// retries failed addresses later (with back-off), and when the budget is tight closes its least
/// useful connections (nobody interested, nothing rare) to make room for useful ones.
/// A listener that cannot bind (descriptors exhausted, port taken) is retried with back-off.
/// </para>
/// </summary>
public sealed partial class TorrentActor : ReceiveActor, IWithTimers, IWithStash
{
    public sealed class GetProgress { public static readonly GetProgress Instance = new(); private GetProgress() { } }
    /// <summary>Answered with <see cref="TorrentExchanges"/>: bytes up and down per remote peer (the Lab's "who uploads to whom").</summary>
    public sealed class GetExchanges { public static readonly GetExchanges Instance = new(); private GetExchanges() { } }
    /// <summary>Answered with <see cref="TorrentCompleted"/> once every piece is verified (at once if it already is).</summary>
    public sealed class NotifyWhenComplete { public static readonly NotifyWhenComplete Instance = new(); private NotifyWhenComplete() { } }
    public sealed record TorrentCompleted(TorrentProgress Progress);
    /// <summary>Announce "stopped" (bounded wait) and answer <see cref="Stopped"/>; the caller then stops the actor.</summary>
    public sealed class Stop { public static readonly Stop Instance = new(); private Stop() { } }
    public sealed class Stopped { public static readonly Stopped Instance = new(); private Stopped() { } }

    private sealed class ChokeTick { public static readonly ChokeTick Instance = new(); }
    private sealed class ConnectTick { public static readonly ConnectTick Instance = new(); }
    private sealed class StatsTick { public static readonly StatsTick Instance = new(); }
    private sealed class RetryBind { public static readonly RetryBind Instance = new(); }
    private sealed class PexTick { public static readonly PexTick Instance = new(); }

    private const int MaxDialFailures = 4;
    /// <summary>Addresses waiting to be dialled, at most: PEX (200 per message, from every peer) must not grow them without bound.</summary>
    private const int MaxCandidates = 1000;

    private sealed class PeerState(byte[] peerId, IPEndPoint remote, PieceSet has)
    {
        public byte[] PeerId { get; } = peerId;
        public IPEndPoint Remote { get; } = remote;
        public PieceSet Has { get; set; } = has;
        public bool AmInterested, PeerInterested, AmChoking = true, PeerChoking = true;
        public long DownWindow, UpWindow;
        public long Uploaded, Downloaded; // since the connection opened
        public long Since = Stopwatch.GetTimestamp();
        public double DownRate, UpRate;
        /// <summary>When we last choked or unchoked it, and what we had uploaded to it then (a seed's round robin).</summary>
        public long ChokeChangedAt = Stopwatch.GetTimestamp(), UploadedAtUnchoke;
        /// <summary>When it last announced a piece (a super-seed shows repeats only to a peer that gets nothing from others).</summary>
        public long LastPieceAt = Stopwatch.GetTimestamp();
        /// <summary>Where the peer listens (the address we dialled, or its extended handshake's <c>p</c>): what PEX shares.</summary>
        public IPEndPoint? ListenEndPoint;
        public bool SupportsPex;
        /// <summary>What we last told this peer by PEX, and when we may tell it again (BEP 11: at most once a minute).</summary>
        public readonly HashSet<IPEndPoint> PexSent = new();
        public long NextPexAt;
    }

    private readonly TorrentSettings _settings;
    private IActorRef _http;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PiecePicker _picker;
    private readonly Choker _choker = new();
    private readonly Dictionary<IActorRef, PeerState> _peers = new();
    private readonly Dictionary<IActorRef, IPEndPoint> _dialing = new();
    private readonly HashSet<IPEndPoint> _candidates = new();
    /// <summary>Addresses whose dial failed: when they may be tried again, and how often they failed.</summary>
    private readonly Dictionary<IPEndPoint, (long Due, int Failures)> _retryAt = new();
    private readonly ConnectionBudget _budget;
    private IActorRef _listener = ActorRefs.Nobody;
    private TimeSpan _bindBackoff = TimeSpan.Zero;
    private readonly HashSet<string> _banned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _strikes = new(StringComparer.Ordinal);
    private readonly Dictionary<int, IReadOnlyList<object>> _verifying = new();
    private readonly List<IActorRef> _completionWatchers = new();
    private IActorRef _storage = ActorRefs.Nobody, _announcer = ActorRefs.Nobody;
    private ConnectionContext _context = null!;
    private int _port;
    /// <summary>Distinct addresses first learned by PEX (figures, tests).</summary>
    private readonly HashSet<IPEndPoint> _pexLearned = new();
    private long _downloaded, _uploaded, _fromSeeds, _fromPeers, _downWindow, _upWindow;
    /// <summary>Bytes up/down with peers whose connection closed, by peer id (hex); bounded (the oldest entries make room).</summary>
    private readonly Dictionary<string, PeerExchange> _pastExchanges = new(StringComparer.Ordinal);
    private const int MaxPastExchanges = 500;
    private double _downRate, _upRate;
    /// <summary>The totals the announcer last got: sent again only when they changed.</summary>
    private Announcer.Totals? _totalsSent;

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    /// <param name="http">An <see cref="HttpClientActor"/> for announces, shared by many torrents; without one the torrent starts its own.</param>
    /// <param name="budget">The process's connection budget, shared by its torrents; without one the torrent has its own.</param>
    public static Props Props(TorrentSettings settings, IActorRef? http = null, ConnectionBudget? budget = null) =>
        Akka.Actor.Props.Create(() => new TorrentActor(settings, http ?? ActorRefs.Nobody, budget ?? ConnectionBudget.Unshared()));

    public TorrentActor(TorrentSettings settings, IActorRef http, ConnectionBudget budget)
    {
        _settings = settings;
        _http = http;
        _budget = budget;
        var t = settings.Torrent;
        _picker = new PiecePicker(t.PieceCount, t.PieceLength, t.PieceSize);
        Checking();
    }

    private bool IsComplete => _picker.IsComplete;
    private long Left => _settings.Torrent.TotalLength - _picker.Have.Sum(i => (long)_settings.Torrent.PieceSize(i));

    protected override void PreStart()
    {
        _storage = Context.ActorOf(StorageActor.Props(_settings.Torrent, _settings.Directory), "storage");
        if (_http.IsNobody() && _settings.UseTrackers) _http = Context.ActorOf(HttpClientActor.Props(), "http");
        _context = new ConnectionContext(_settings.Torrent, _settings.PeerId, Self, _storage,
            new TokenBucket(_settings.MaxUploadRate), new TokenBucket(_settings.MaxDownloadRate))
        {
            Budget = _budget,
            Dht = _settings.Dht,
            LocalAddress = IPAddress.TryParse(_settings.Host, out var host) && !host.Equals(IPAddress.Any) && !host.Equals(IPAddress.IPv6Any)
                ? new IPEndPoint(host, 0) : null,
        };
        _budget.AddTorrent();
        _storage.Tell(StorageActor.CheckPieces.Instance);
    }

    protected override void PostStop() => _budget.RemoveTorrent();

    // A connection's failure closes that connection only. Storage that fails or a listen port that
    // is taken is fatal for the torrent: escalated (FailurePolicy), so the process ends with one line.
    // Out of descriptors is a passing shortage: the listener is retried with back-off (Checking).
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        if (ex is TcpServer.BindFailedException { OutOfDescriptors: true }) return Directive.Stop; // retried, logged in Checking
        if (FailurePolicy.Fatal(ex) is not null) return Directive.Escalate;
        _log.Error(ex, "Child failed");
        return Directive.Stop;
    });

    // ---- Checking what is on disk, then binding the listener -----------------------------

    private void Checking()
    {
        Receive<StorageActor.PiecesChecked>(checkedPieces =>
        {
            _picker.SetHave(checkedPieces.Have);
            _log.Info("{0}: {1}/{2} pieces already on disk", _settings.Torrent.Name, checkedPieces.Have.Count, _settings.Torrent.PieceCount);
            Bind();
        });
        Receive<RetryBind>(_ => Bind());
        Receive<Terminated>(terminated =>
        {
            if (!terminated.ActorRef.Equals(_listener)) return;
            // Could not listen (no descriptors, port taken): try again later, never give up the torrent.
            _bindBackoff = _bindBackoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1)
                : TimeSpan.FromTicks(Math.Min(_budget.Limits.MaxBackoff.Ticks, _bindBackoff.Ticks * 2));
            if (_budget.ExhaustionLog.ShouldLog(out var count))
                _log.Warning("{0}: cannot listen on port {1}; retrying in {2:F0} s ({3} such failures since the last warning)",
                    _settings.Torrent.Name, _settings.Port, _bindBackoff.TotalSeconds, count);
            Timers.StartSingleTimer(RetryBind.Instance, RetryBind.Instance, _bindBackoff);
        });
        Receive<TcpServer.Listening>(listening =>
        {
            Context.Unwatch(_listener);
            _port = ((IPEndPoint)listening.LocalAddress).Port;
            // Connections made from now on tell peers our port (extended handshake), so PEX can share us.
            _context = _context with { ListenPort = _port };
            if (_settings.UseTrackers && _settings.Torrent.TrackerTiers.Count > 0)
                _announcer = Context.ActorOf(Announcer.Props(_settings.Torrent, _settings.PeerId, _settings.AnnouncePort > 0 ? _settings.AnnouncePort : _port, _http, Totals()), "announcer");
            foreach (var peer in _settings.InitialPeers) _candidates.Add(peer);
            StartSeedingMode();
            Timers.StartPeriodicTimer(ChokeTick.Instance, ChokeTick.Instance, TimeSpan.FromSeconds(10));
            Timers.StartPeriodicTimer(ConnectTick.Instance, ConnectTick.Instance, TimeSpan.FromSeconds(3));
            Timers.StartPeriodicTimer(StatsTick.Instance, StatsTick.Instance, TimeSpan.FromSeconds(1));
            if (!_settings.Torrent.IsPrivate) Timers.StartPeriodicTimer(PexTick.Instance, PexTick.Instance, PexCheck);
            Become(Running);
            Stash.UnstashAll();
            ConnectMore();
            if (IsComplete) OnComplete();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Bind()
    {
        _listener = Context.ActorOf(TcpServer.Props(new TcpServerSettings(_settings.Host, _settings.Port, _settings.MaxPeers * 2),
            (connection, remote, _) => PeerConnection.Inbound(connection, remote, _context)));
        Context.Watch(_listener);
        _listener.Tell(TcpServer.GetListening.Instance);
    }

    // ---- Running -------------------------------------------------------------------------

    private void Running()
    {
        Receive<Announcer.PeersDiscovered>(discovered =>
        {
            foreach (var peer in discovered.Peers)
                if (!IsSelf(peer)) _candidates.Add(peer);
            ConnectMore();
        });
        Receive<ConnectTick>(_ =>
        {
            ShedUseless();
            ConnectMore();
            // Starved, not only alone: connected peers with nothing we want do not end the search
            // (a swarm that started before its seeder learns of the seeder this way). Slowing this
            // down while starving was tried: idle CPU halved, but a seeder that arrives late was found
            // so much later that a 1,000-peer swarm no longer completed (see the Peer README).
            if (!IsComplete && _dialing.Count == 0 && !_peers.Values.Any(p => p.AmInterested)) _announcer.Tell(Announcer.NeedPeers.Instance);
        });
        Receive<PeerHandshaken>(OnHandshaken);
        Receive<PeerExtensionsKnown>(known => WithPeer(peer =>
        {
            peer.SupportsPex = known.SupportsPex;
            // An outbound peer listens where we dialled it; an inbound one where it says.
            if (peer.ListenEndPoint is null && known.ListenPort is { } port) peer.ListenEndPoint = new IPEndPoint(peer.Remote.Address, port);
        }));
        Receive<PeersExchanged>(OnPeersExchanged);
        Receive<PexTick>(_ => SendPexUpdates());
        Receive<DialFailed>(OnDialFailed);
        Receive<PeerBitfield>(bitfield => WithPeer(peer =>
        {
            _picker.Forget(peer.Has);
            var before = peer.Has;
            peer.Has = bitfield.Has;
            _picker.PeerAdded(peer.Has);
            if (IsComplete && peer.Has.IsComplete)
            {
                Sender.Tell(new Disconnect("both seeding"));
                return;
            }
            UpdateInterest(Sender, peer);
            SuperSeedPieces(Sender, peer, before);
        }));
        Receive<PeerHave>(have => WithPeer(peer =>
        {
            if (!peer.Has.Add(have.Index)) return;
            _picker.PeerHas(have.Index);
            UpdateInterest(Sender, peer);
            SuperSeedHave(Sender, peer, have.Index);
        }));
        Receive<PeerChokedUs>(choke => WithPeer(peer =>
        {
            peer.PeerChoking = choke.Choked;
            if (choke.Choked) _picker.Release(Sender);
        }));
        Receive<PeerInterest>(interest => WithPeer(peer =>
        {
            peer.PeerInterested = interest.Interested;
            OnInterestChanged(Sender, peer);
        }));
        Receive<BlocksWanted>(wanted => WithPeer(peer =>
            Sender.Tell(new RequestBlocks(peer.AmInterested ? _picker.Pick(Sender, peer.Has, wanted.Count, LeaveToOthers(peer)) : []))));
        Receive<BlocksReturned>(returned => _picker.Release(Sender, returned.Blocks));
        Receive<BlockReceived>(OnBlockReceived);
        Receive<StorageActor.PieceStored>(OnPieceStored);
        Receive<BlockUploaded>(uploaded => WithPeer(peer =>
        {
            _uploaded += uploaded.Bytes;
            _upWindow += uploaded.Bytes;
            peer.UpWindow += uploaded.Bytes;
            peer.Uploaded += uploaded.Bytes;
        }));
        Receive<Terminated>(OnTerminated);
        Receive<ChokeTick>(_ => RunChoker());
        Receive<StatsTick>(_ => OnStatsTick());
        Receive<GetProgress>(_ => Sender.Tell(Progress()));
        Receive<GetExchanges>(_ => Sender.Tell(Exchanges()));
        Receive<NotifyWhenComplete>(_ =>
        {
            if (IsComplete) Sender.Tell(new TorrentCompleted(Progress()));
            else _completionWatchers.Add(Sender);
        });
        Receive<Stop>(_ => OnStop());
    }

    private void WithPeer(Action<PeerState> action)
    {
        if (_peers.TryGetValue(Sender, out var peer)) action(peer);
    }

    private void UpdateInterest(IActorRef connection, PeerState peer)
    {
        var want = _picker.WantsAnyOf(peer.Has);
        if (want == peer.AmInterested) return;
        peer.AmInterested = want;
        connection.Tell(new SetInterested(want));
    }

    // ---- Stats ---------------------------------------------------------------------------

    private void OnStatsTick()
    {
        // Idle (nothing moved this second and the rates have decayed): nothing to compute, nothing
        // to tell. Thousands of idle torrents per process tick here every second.
        if (_downWindow == 0 && _upWindow == 0 && _downRate < 1 && _upRate < 1)
        {
            if (_downRate > 0 || _upRate > 0)
            {
                _downRate = _upRate = 0;
                foreach (var peer in _peers.Values) peer.DownRate = peer.UpRate = peer.DownWindow = peer.UpWindow = 0;
            }
            return;
        }
        _downRate = 0.7 * _downRate + 0.3 * _downWindow;
        _upRate = 0.7 * _upRate + 0.3 * _upWindow;
        _downWindow = _upWindow = 0;
        foreach (var peer in _peers.Values)
        {
            peer.DownRate = 0.7 * peer.DownRate + 0.3 * peer.DownWindow;
            peer.UpRate = 0.7 * peer.UpRate + 0.3 * peer.UpWindow;
            peer.DownWindow = peer.UpWindow = 0;
        }
        OpenSlotIfUploadUnused();
        var totals = Totals();
        if (totals == _totalsSent) return;
        _totalsSent = totals;
        _announcer.Tell(totals);
    }

    private void RememberExchange(PeerState peer)
    {
        if (peer.Uploaded == 0 && peer.Downloaded == 0) return;
        var id = Convert.ToHexString(peer.PeerId);
        var before = _pastExchanges.GetValueOrDefault(id);
        if (before is null && _pastExchanges.Count >= MaxPastExchanges) _pastExchanges.Remove(_pastExchanges.Keys.First());
        _pastExchanges[id] = new PeerExchange(id, Endpoints.Format(peer.Remote), (before?.Uploaded ?? 0) + peer.Uploaded,
            (before?.Downloaded ?? 0) + peer.Downloaded, false);
    }

    private TorrentExchanges Exchanges()
    {
        var all = new Dictionary<string, PeerExchange>(_pastExchanges, StringComparer.Ordinal);
        foreach (var peer in _peers.Values)
        {
            var id = Convert.ToHexString(peer.PeerId);
            var before = all.GetValueOrDefault(id);
            all[id] = new PeerExchange(id, Endpoints.Format(peer.Remote), (before?.Uploaded ?? 0) + peer.Uploaded, (before?.Downloaded ?? 0) + peer.Downloaded, true);
        }
        return new TorrentExchanges(Convert.ToHexString(_settings.PeerId), all.Values.ToList());
    }

    private Announcer.Totals Totals() => new(_uploaded, _downloaded, Left);

    private TorrentProgress Progress() => new(_picker.Have.Count, _settings.Torrent.PieceCount, _downloaded, _uploaded,
        _downRate, _upRate, _peers.Count, IsComplete, _fromSeeds, _fromPeers, _banned.Count / 2, _port)
    {
        PexLearned = _pexLearned.Count,
        Bitfield = _picker.Have.ToWire(),
    };

    private void OnStop()
    {
        foreach (var connection in _peers.Keys) connection.Tell(new Disconnect("stopping"));
        if (_announcer.IsNobody())
        {
            Sender.Tell(Stopped.Instance);
            return;
        }
        var replyTo = Sender;
        _announcer.Ask<Announcer.Announced>(new Announcer.AnnounceNow(AnnounceEvent.Stopped), TimeSpan.FromSeconds(3))
            .ContinueWith(_ => (object)Stopped.Instance).PipeTo(replyTo);
    }
}
