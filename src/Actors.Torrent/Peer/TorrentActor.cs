using System.Diagnostics;
using System.Net;
using Actors.Net.RateLimit;
using Actors.Net.Scheduling;
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
    /// <summary>
    /// Tell <paramref name="Subscriber"/> a <see cref="ProgressChanged"/> now and whenever the progress
    /// changes (pieces, rates while data moves, peers on the connect tick): a command showing the
    /// progress of thousands of torrents needs no polling.
    /// </summary>
    public sealed record SubscribeProgress(IActorRef Subscriber, int Tag);
    public sealed record ProgressChanged(int Tag, TorrentProgress Progress);

    /// <summary>The slot of the wheel a torrent starts when none is passed in (<see cref="TickWheel"/>); `actors peer` uses it for its own.</summary>
    public static readonly TimeSpan TickSlot = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan ChokeEvery = TimeSpan.FromSeconds(10), ConnectEvery = TimeSpan.FromSeconds(3), StatsEvery = TimeSpan.FromSeconds(1);

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
        /// <summary>Let in above the torrent's limit to show what it has (<see cref="ProbationSlots"/>): it keeps its slot only if it has pieces we want.</summary>
        public bool OnProbation;
        /// <summary>What we last told this peer by PEX, and when we may tell it again (BEP 11: at most once a minute).</summary>
        public readonly HashSet<IPEndPoint> PexSent = new();
        public long NextPexAt;
    }

    private readonly TorrentSettings _settings;
    private IActorRef _http;
    /// <summary>The process's tick wheel (<see cref="TickWheel"/>): the torrent's periodic ticks and its connections'.</summary>
    private IActorRef _ticks;
    private bool _statsTicking;
    private readonly List<(IActorRef Subscriber, int Tag)> _progressSubscribers = new();
    private TorrentProgress? _progressSent;
    /// <summary>Seeders in the swarm by the tracker's last answer (null: never said).</summary>
    private int? _trackerSeeders;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly PiecePicker _picker;
    private readonly Choker _choker = new();
    private readonly Dictionary<IActorRef, PeerState> _peers = new();
    private readonly Dictionary<IActorRef, IPEndPoint> _dialing = new();
    private readonly HashSet<IPEndPoint> _candidates = new();
    /// <summary>Candidates just learned (tracker, PEX), not yet dialled: dialled before the ones we knew (a seeder that arrives late is new).</summary>
    private readonly HashSet<IPEndPoint> _freshCandidates = new();
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
    /// <param name="ticks">The process's <see cref="TickWheel"/>, shared by its torrents; without one the torrent starts its own.</param>
    public static Props Props(TorrentSettings settings, IActorRef? http = null, ConnectionBudget? budget = null, IActorRef? ticks = null) =>
        Akka.Actor.Props.Create(() => new TorrentActor(settings, http ?? ActorRefs.Nobody, budget ?? ConnectionBudget.Unshared(), ticks ?? ActorRefs.Nobody));

    public TorrentActor(TorrentSettings settings, IActorRef http, ConnectionBudget budget, IActorRef ticks)
    {
        _settings = settings;
        _http = http;
        _budget = budget;
        _ticks = ticks;
        var t = settings.Torrent;
        _picker = new PiecePicker(t.PieceCount, t.PieceLength, t.PieceSize);
        Checking();
    }

    private bool IsComplete => _picker.IsComplete;
    private long Left => _settings.Torrent.TotalLength - _picker.Have.Sum(i => (long)_settings.Torrent.PieceSize(i));

    protected override void PreStart()
    {
        if (_ticks.IsNobody()) _ticks = Context.ActorOf(TickWheel.Props(TickSlot), "ticks");
        _storage = Context.ActorOf(StorageActor.Props(_settings.Torrent, _settings.Directory, _ticks, _budget.ExhaustionLog), "storage");
        if (_http.IsNobody() && _settings.UseTrackers) _http = Context.ActorOf(HttpClientActor.Props(), "http");
        _context = new ConnectionContext(_settings.Torrent, _settings.PeerId, Self, _storage,
            new TokenBucket(_settings.MaxUploadRate), new TokenBucket(_settings.MaxDownloadRate))
        {
            Budget = _budget,
            Ticks = _ticks,
            Dht = _settings.Dht,
            Rarity = _picker.Rarity,
            LocalAddress = IPAddress.TryParse(_settings.Host, out var host) && !host.Equals(IPAddress.Any) && !host.Equals(IPAddress.IPv6Any)
                ? new IPEndPoint(host, 0) : null,
        };
        _budget.AddTorrent();
        _storage.Tell(StorageActor.CheckPieces.Instance);
    }

    protected override void PostStop()
    {
        _budget.StopWaiting(Self);
        _budget.RemoveTorrent();
    }

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

    // ---- Running -------------------------------------------------------------------------

    private void Running()
    {
        Receive<Announcer.PeersDiscovered>(discovered =>
        {
            if (discovered.Seeders is { } seeders) _trackerSeeders = seeders;
            foreach (var peer in discovered.Peers)
                if (!IsSelf(peer)) AddFreshCandidate(peer);
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
            PublishProgress(); // the peer count, at most every connect tick
        });
        Receive<ConnectionBudget.DialSlotFree>(_ => ConnectMore());
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
            EndProbationIfUseful(Sender, peer);
            SuperSeedPieces(Sender, peer, before);
        }));
        Receive<PeerHave>(have => WithPeer(peer =>
        {
            if (!peer.Has.Add(have.Index)) return;
            _picker.PeerHas(have.Index);
            UpdateInterest(Sender, peer);
            EndProbationIfUseful(Sender, peer);
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
            Sender.Tell(new RequestBlocks(peer.AmInterested
                ? _picker.Pick(Sender, peer.Has, wanted.Count, LeaveToOthers(peer), shareSlowBlocks: wanted.Idle && !peer.Has.IsComplete)
                : []))));
        Receive<BlocksReturned>(returned => _picker.Release(Sender, returned.Blocks));
        Receive<BlockReceived>(OnBlockReceived);
        Receive<StorageActor.PieceStored>(OnPieceStored);
        Receive<BlockUploaded>(uploaded => WithPeer(peer =>
        {
            StartStatsTicks();
            _uploaded += uploaded.Bytes;
            _upWindow += uploaded.Bytes;
            peer.UpWindow += uploaded.Bytes;
            peer.Uploaded += uploaded.Bytes;
        }));
        Receive<Terminated>(OnTerminated);
        Receive<ChokeTick>(_ => RunChoker());
        Receive<StatsTick>(_ => OnStatsTick());
        Receive<GetProgress>(_ => Sender.Tell(Progress()));
        Receive<SubscribeProgress>(subscribe =>
        {
            _progressSubscribers.Add((subscribe.Subscriber, subscribe.Tag));
            subscribe.Subscriber.Tell(new ProgressChanged(subscribe.Tag, Progress()));
        });
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
