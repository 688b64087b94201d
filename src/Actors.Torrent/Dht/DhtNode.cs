using System.Net;
using Actors.Net.Supervision;
using Actors.Net.Udp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Dht;

/// <summary>
/// One Mainline DHT node (BEP 5) owning one Akka.IO UDP socket. It answers ping, find_node,
/// get_peers and announce_peer from its routing table, token issuer and peer store; it sends every
/// query itself (two-byte transaction ids, a bounded table of queries in flight, each with its own
/// timeout timer) and routes answers to whoever asked: itself (pings that keep the table honest) or
/// a <see cref="DhtLookup"/> child (one per iterative lookup). Incoming datagrams are rate-limited
/// per source before they are parsed; at most <c>max-queued-datagrams</c> wait for the node
/// (<see cref="DatagramMailbox"/>), a flood beyond that is dropped and counted.
/// </summary>
public sealed partial class DhtNode : ReceiveActor, IWithTimers, IWithStash
{
    private readonly DhtSettings _settings;
    private readonly IActorRef? _owner;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TokenIssuer _tokens = new();
    private readonly PeerStore _peers;
    private readonly SourceRateLimiter _limiter;
    private readonly Dictionary<ushort, Pending> _outstanding = new();
    private readonly HashSet<NodeId> _pinging = new();
    private readonly HashSet<IActorRef> _lookups = new();
    private readonly Dictionary<IPEndPoint, DateTime> _advertised = new();
    private readonly List<NodeContact> _savedNodes = [];
    private NodeId _id;
    private RoutingTable _table = null!;
    private IActorRef _socket = ActorRefs.Nobody;
    private IPEndPoint? _endPoint;
    private ushort _nextTid = (ushort)Random.Shared.Next(ushort.MaxValue);
    private TimeSpan _bootstrapBackoff;
    private long _received, _sent, _dropped;
    private readonly DatagramQueue? _queue = DatagramMailbox.QueueOf(Context);
    private bool _joining;

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    /// <param name="owner">Told <see cref="DhtNodeStarted"/> once the socket is bound (may be null).</param>
    /// <remarks>On <see cref="DatagramMailbox"/>: call <see cref="DatagramMailbox.Ensure"/> before creating it.</remarks>
    public static Props Props(DhtSettings settings, IActorRef? owner = null) =>
        DatagramMailbox.Select(Akka.Actor.Props.Create(() => new DhtNode(settings, owner)));

    public DhtNode(DhtSettings settings, IActorRef? owner)
    {
        _settings = settings;
        _owner = owner;
        _peers = new PeerStore(settings.MaxPeersPerInfoHash, settings.MaxInfoHashes, settings.PeerTtl);
        _limiter = new SourceRateLimiter(settings.RatePerSource, settings.RatePerSource * 2);
        _bootstrapBackoff = settings.BootstrapRetry;
        Binding();
    }

    protected override void PreStart()
    {
        _id = _settings.Id ?? NodeId.Random();
        if (_settings.StateFile is { } file)
        {
            try
            {
                if (DhtStateFile.Load(file) is { } saved)
                {
                    _id = _settings.Id ?? saved.Id;
                    _savedNodes.AddRange(saved.Nodes);
                }
            }
            catch (InvalidDataException ex)
            {
                // A damaged state file costs the saved contacts, not the node.
                _log.Warning("Ignoring DHT state file: {0}", ex.Message);
            }
        }
        _table = new RoutingTable(_id, _settings.K);
        Udp.Instance.Apply(Context.System).Manager.Tell(new Udp.Bind(Self, new IPEndPoint(_settings.Host, _settings.Port)));
    }

    protected override void PostStop()
    {
        SaveState();
        if (!_socket.IsNobody()) _socket.Tell(Udp.Unbind.Instance);
    }

    // ---- states -------------------------------------------------------------------------------

    private void Binding()
    {
        Receive<Udp.Bound>(bound =>
        {
            _socket = Sender;
            _endPoint = (IPEndPoint)bound.LocalAddress;
            _log.Debug("DHT node {0} on UDP {1}", _id, _endPoint);
            _owner?.Tell(new DhtNodeStarted(_id, _endPoint));
            Become(Bound);
            Stash.UnstashAll();
            Timers.StartPeriodicTimer("maintenance", Maintenance.Instance, _settings.MaintenanceInterval);
            Timers.StartPeriodicTimer("token-rotation", RotateToken.Instance, _settings.TokenRotation);
            Join();
        });
        Receive<Udp.CommandFailed>(failed =>
            throw new FatalRoleException($"cannot bind DHT UDP port {_settings.Host}:{_settings.Port} ({failed.Cmd.FailureMessage})"));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Bound()
    {
        Receive<Udp.Received>(OnDatagram);
        Receive<Udp.CommandFailed>(_ => _dropped++); // a send the OS refused: UDP loses it like the network would
        Receive<SendQuery>(q => SendQueryFor(q, Sender));
        Receive<QueryTimedOut>(OnQueryTimedOut);
        Receive<QueryAnswered>(_ => { }); // answers to our own pings: the table was updated on receipt
        Receive<QueryFailed>(_ => { });
        Receive<FindNode>(f => StartLookup(f.Target, LookupKind.FindNode, Sender, null));
        Receive<GetPeers>(g => StartLookup(g.InfoHash, LookupKind.GetPeers, Sender, null));
        Receive<AnnouncePeer>(a => StartLookup(a.InfoHash, LookupKind.GetPeers, Sender, a));
        Receive<BootstrapFrom>(b => StartLookup(_id, LookupKind.FindNode, Self, null, b.Nodes));
        Receive<PingAdvertisedNode>(OnAdvertised);
        Receive<LookupCompleted>(OnOwnLookupCompleted);
        Receive<Terminated>(t => _lookups.Remove(t.ActorRef));
        Receive<Maintenance>(_ => OnMaintenance());
        Receive<RotateToken>(_ => _tokens.Rotate());
        Receive<RetryBootstrap>(_ => Join());
        Receive<GetDhtStatus>(_ => Sender.Tell(Status()));
    }

    // ---- joining ------------------------------------------------------------------------------

    /// <summary>A find_node for our own id through the saved nodes and the bootstrap nodes.</summary>
    private void Join()
    {
        var unknown = _settings.Bootstrap.Concat(_savedNodes.Select(n => n.EndPoint)).Distinct().ToList();
        if (_joining || (unknown.Count == 0 && _table.Count == 0)) return;
        _joining = true;
        StartLookup(_id, LookupKind.FindNode, Self, null, unknown);
    }

    private void OnOwnLookupCompleted(LookupCompleted done)
    {
        if (done.Target == _id) _joining = false;
        if (_table.Count > 0 || done.Target != _id)
        {
            _bootstrapBackoff = _settings.BootstrapRetry;
            return;
        }
        // Nobody answered: try again later, less and less often.
        Timers.StartSingleTimer("bootstrap", RetryBootstrap.Instance, _bootstrapBackoff);
        _bootstrapBackoff = TimeSpan.FromTicks(Math.Min(_bootstrapBackoff.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
    }

    // ---- lookups ------------------------------------------------------------------------------

    private void StartLookup(NodeId target, LookupKind kind, IActorRef replyTo, AnnouncePeer? announce, IReadOnlyList<IPEndPoint>? unknown = null)
    {
        var now = DateTime.UtcNow;
        var seeds = _table.Closest(target, _settings.K, now);
        // An empty table falls back on the bootstrap nodes.
        unknown ??= seeds.Count == 0 ? _settings.Bootstrap : [];
        string? error = null;
        if (_lookups.Count >= _settings.MaxConcurrentLookups) error = $"{_lookups.Count} lookups already running";
        else if (seeds.Count == 0 && unknown.Count == 0) error = "no known nodes";
        if (error is not null)
        {
            var refused = new LookupCompleted(target, kind, [], [], 0, 0, 0, TimeSpan.Zero, false, error);
            replyTo.Tell(announce is null ? refused : new AnnounceCompleted(target, refused, 0));
            return;
        }
        var local = kind == LookupKind.GetPeers ? _peers.Get(target, KrpcCodec.MaxValuesPerResponse, now) : [];
        var lookup = Context.ActorOf(DhtLookup.Props(target, kind, seeds, unknown, replyTo, _settings, announce, local));
        Context.Watch(lookup);
        _lookups.Add(lookup);
    }

    // ---- sending queries ----------------------------------------------------------------------

    private void SendQueryFor(SendQuery query, IActorRef requester)
    {
        if (_outstanding.Count >= _settings.MaxOutstandingQueries)
        {
            requester.Tell(new QueryFailed(query.To, "too many queries in flight"));
            return;
        }
        var tid = NextTransactionId();
        var tidBytes = new[] { (byte)(tid >> 8), (byte)tid };
        KrpcQuery message = query.Body switch
        {
            QueryBody.Ping => new PingQuery(tidBytes, _id),
            QueryBody.FindNode f => new FindNodeQuery(tidBytes, _id, f.Target),
            QueryBody.GetPeers g => new GetPeersQuery(tidBytes, _id, g.InfoHash),
            QueryBody.Announce a => new AnnouncePeerQuery(tidBytes, _id, a.InfoHash, a.Port, a.ImpliedPort, a.Token),
            _ => throw new ArgumentException($"unknown query {query.Body}"),
        };
        var to = CompactEncoding.Normalize(query.To);
        _outstanding[tid] = new Pending(to, query.ExpectedId, requester);
        Timers.StartSingleTimer(tid, new QueryTimedOut(tid), _settings.QueryTimeout);
        Send(message, to);
    }

    private ushort NextTransactionId()
    {
        // At most MaxOutstandingQueries (< 65,536) are taken, so a free id is found.
        while (_outstanding.ContainsKey(++_nextTid))
        {
        }
        return _nextTid;
    }

    private void OnQueryTimedOut(QueryTimedOut timeout)
    {
        if (!_outstanding.Remove(timeout.Tid, out var pending)) return;
        if (pending.ExpectedId is { } id)
        {
            _table.Failed(id, DateTime.UtcNow);
            if (_pinging.Remove(id) && _table.Find(id) is { } entry && entry.State(DateTime.UtcNow) != NodeState.Bad)
                Ping(entry.Contact); // a questionable node gets a second chance before it is bad
        }
        pending.Requester.Tell(new QueryFailed(pending.To, "timed out"));
    }

    private void Ping(NodeContact contact)
    {
        if (!_pinging.Add(contact.Id)) return;
        SendQueryFor(new SendQuery(contact.EndPoint, contact.Id, new QueryBody.Ping()), Self);
    }

    /// <summary>BEP 5 <c>port</c>: a peer's node; pinged (its answer adds it to the table), once per interval per endpoint.</summary>
    private void OnAdvertised(PingAdvertisedNode advertised)
    {
        var to = CompactEncoding.Normalize(advertised.EndPoint);
        if (to.Port == 0 || IsOurs(to)) return;
        var now = DateTime.UtcNow;
        if (_advertised.TryGetValue(to, out var last) && now - last < _settings.AdvertisedPingInterval) return;
        if (_advertised.Count >= _settings.MaxAdvertised)
        {
            foreach (var old in _advertised.Where(a => now - a.Value >= _settings.AdvertisedPingInterval).Select(a => a.Key).ToList())
                _advertised.Remove(old);
            if (_advertised.Count >= _settings.MaxAdvertised) return; // a flood of distinct endpoints: not ours to chase
        }
        _advertised[to] = now;
        SendQueryFor(new SendQuery(to, null, new QueryBody.Ping()), Self);
    }

    /// <summary>Our own socket (a peer of this process advertising the node we are).</summary>
    private bool IsOurs(IPEndPoint to) =>
        _endPoint is { } ours && to.Port == ours.Port
        && (to.Address.Equals(ours.Address) || IPAddress.IsLoopback(to.Address) && (ours.Address.Equals(IPAddress.Any) || IPAddress.IsLoopback(ours.Address)));

    // ---- upkeep -------------------------------------------------------------------------------

    private void OnMaintenance()
    {
        var now = DateTime.UtcNow;
        _peers.Expire(now);
        _limiter.Purge(now);
        foreach (var old in _advertised.Where(a => now - a.Value >= _settings.AdvertisedPingInterval).Select(a => a.Key).ToList())
            _advertised.Remove(old);
        if (_table.Count < _settings.K)
        {
            // Few contacts (we joined early, or the network shrank): look ourselves up again, which
            // also makes the nodes we ask learn about us, and a random id, whose answerers come from
            // another part of the space.
            Join();
            if (_table.Count > 0) StartLookup(NodeId.Random(), LookupKind.FindNode, ActorRefs.Nobody, null);
        }
        else
        {
            foreach (var target in _table.RefreshTargets(now, _settings.BucketRefreshInterval).Take(4))
                StartLookup(target, LookupKind.FindNode, ActorRefs.Nobody, null);
            foreach (var node in _table.InState(NodeState.Questionable, now).Take(8)) Ping(node);
        }
        SaveState();
    }

    private void SaveState()
    {
        if (_settings.StateFile is not { } file || _table is null) return;
        try
        {
            DhtStateFile.Save(file, _id, _table.InState(NodeState.Good, DateTime.UtcNow));
        }
        catch (IOException ex)
        {
            _log.Warning("Cannot save the DHT state to {0}: {1}", file, ex.Message);
        }
        catch (UnauthorizedAccessException ex)
        {
            _log.Warning("Cannot save the DHT state to {0}: {1}", file, ex.Message);
        }
    }

    private DhtStatus Status()
    {
        var now = DateTime.UtcNow;
        return new DhtStatus(_id, _endPoint, _table.Count, _table.BucketCount, _table.InState(NodeState.Good, now).Count,
            _peers.InfoHashCount, _peers.PeerCount, _outstanding.Count, _lookups.Count, _received, _sent, _dropped,
            _queue?.Dropped ?? 0);
    }

    private void Send(KrpcMessage message, IPEndPoint to)
    {
        _sent++;
        _socket.Tell(Udp.Send.Create(ByteString.FromBytes(KrpcCodec.Encode(message)), to));
    }

    private sealed record Pending(IPEndPoint To, NodeId? ExpectedId, IActorRef Requester);

    private sealed record QueryTimedOut(ushort Tid);

    private sealed record Maintenance
    {
        public static Maintenance Instance { get; } = new();
    }

    private sealed record RotateToken
    {
        public static RotateToken Instance { get; } = new();
    }

    private sealed record RetryBootstrap
    {
        public static RetryBootstrap Instance { get; } = new();
    }
}
