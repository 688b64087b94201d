using Actors.Calls.Telemetry;
using Actors.Calls.Protocol;
using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;

namespace Actors.Calls.Relay;

/// <summary>
/// Root of the relay role (<c>relay</c>). Allocates a session per relayed call with two single-use
/// tokens that expire unused after <see cref="RelaySettings.TokenTtl"/>; pairs the two
/// <see cref="RelayConnection"/>s that present them; enforces the session quota; publishes its
/// load to the cluster so rendezvous nodes can pick the least loaded live relay.
/// </summary>
public sealed class RelayServer : ReceiveActor, IWithTimers
{
    // Between the server and its connections (same node).
    /// <summary>A connection presents its token; <paramref name="Socket"/> is its Akka.IO connection, which the other side writes to.</summary>
    public sealed record Claim(string CallId, string Token, IActorRef Socket);
    public sealed record ClaimRefused(RefusalCode Code, string Reason);
    /// <summary>Both sides joined: <paramref name="Peer"/> is the other side's connection actor, <paramref name="PeerSocket"/> its Akka.IO connection.</summary>
    public sealed record Paired(IActorRef Peer, IActorRef PeerSocket, string CallId);
    public sealed class GetStats { public static readonly GetStats Instance = new(); private GetStats() { } }
    public sealed record Stats(int Sessions, int Paired, int Port);

    private sealed record Expire(string SessionId);
    private sealed class Publish { public static readonly Publish Instance = new(); }
    private sealed record Bound(int Port);

    private sealed class Session(string id, string callId, string[] tokens)
    {
        public string Id { get; } = id;
        public string CallId { get; } = callId;
        public string[] Tokens { get; } = tokens;
        /// <summary>Who claimed each token: the connection actor and its Akka.IO connection (the other side writes to it).</summary>
        public (IActorRef Connection, IActorRef Socket)?[] Sides { get; } = new (IActorRef, IActorRef)?[2];
        public bool IsPaired => Sides[0] is not null && Sides[1] is not null;
    }

    private readonly RelaySettings _settings;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Session Session, int Side)> _tokens = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _listener = ActorRefs.Nobody;
    private int _port;
    // What callers dial: the listening port, unless a proxy (the Lab's link) stands in front.
    private int PublicPort => _settings.PublicPort == 0 ? _port : _settings.PublicPort;
    private bool _dirty = true;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(RelaySettings settings) => Akka.Actor.Props.Create(() => new RelayServer(settings));

    public RelayServer(RelaySettings settings)
    {
        _settings = settings;
        Receive<Bound>(bound => { _port = bound.Port; Timers.StartPeriodicTimer(Publish.Instance, Publish.Instance, TimeSpan.FromMilliseconds(500)); PublishLoad(); });
        Receive<Status.Failure>(f => throw new InvalidOperationException($"relay listener did not start: {f.Cause.Message}"));
        Receive<AllocateSession>(OnAllocate);
        Receive<Claim>(OnClaim);
        Receive<Expire>(OnExpire);
        Receive<Terminated>(OnConnectionStopped);
        Receive<Publish>(_ => { if (_dirty) PublishLoad(); });
        Receive<GetStats>(_ => Sender.Tell(new Stats(_sessions.Count, _sessions.Values.Count(s => s.IsPaired), _port)));
        Receive<TcpServer.GetListening>(get => _listener.Forward(get));
        Receive<Changed>(changed => changed.Key.Equals(RelayRegistry.Key), changed =>
        {
            // A rendezvous removes the entries of relays that left the cluster. A relay restarted
            // under the same address can see its fresh entry removed that way (when the old
            // incarnation's removal is processed after our first publish): publish it again.
            var entries = changed.Get(RelayRegistry.Key).Entries;
            if (_port != 0 && (!entries.TryGetValue(_cluster.SelfAddress.ToString(), out var mine) || mine.ServicePath != MyPath)) PublishLoad();
        });
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(_ => { });
    }

    // A port that is taken ends the role (FailurePolicy) instead of restarting the listener forever.
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy();

    private string MyPath => Akka.Serialization.Serialization.SerializedActorPath(Self);

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(RelayRegistry.Key, Self));
        var server = Self; // captured now: the factory runs inside the listener
        _listener = Context.ActorOf(TcpServer.Props(new TcpServerSettings(_settings.Host, _settings.Port, _settings.MaxSessions * 2 + 16, PullMode: true),
            (tcp, remote, local) => RelayConnection.Props(tcp, remote, local, _settings, server)), "listener");
        _listener.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, TimeSpan.FromSeconds(10))
            .PipeTo(Self, success: l => new Bound(((System.Net.IPEndPoint)l.LocalAddress).Port));
    }

    protected override void PostStop()
    {
        // Leaving gracefully: withdraw at once rather than waiting for the cluster to notice.
        _replicator.Tell(Dsl.Update(RelayRegistry.Key, LWWDictionary<string, RelayInfo>.Empty, WriteLocal.Instance,
            map => map.Remove(_cluster, _cluster.SelfAddress.ToString())));
    }

    private void OnAllocate(AllocateSession allocate)
    {
        if (_port == 0) { Sender.Tell(new AllocationRefused(allocate.CallId, "relay not listening yet")); return; }
        if (_sessions.Count >= _settings.MaxSessions)
        {
            Sender.Tell(new AllocationRefused(allocate.CallId, $"relay full ({_settings.MaxSessions} sessions)"));
            return;
        }
        var session = new Session(CallAuth.RandomId(8), allocate.CallId, [CallAuth.RandomId(), CallAuth.RandomId()]);
        _sessions[session.Id] = session;
        CallsMetrics.RelaySessions.Add(1);
        _tokens[session.Tokens[0]] = (session, 0);
        _tokens[session.Tokens[1]] = (session, 1);
        Timers.StartSingleTimer(new Expire(session.Id), new Expire(session.Id), _settings.TokenTtl);
        _dirty = true;
        _log.Info("Session {0} for call {1} allocated ({2} open)", session.Id, allocate.CallId, _sessions.Count);
        Sender.Tell(new SessionAllocated(allocate.CallId, _cluster.SelfAddress.ToString(), _settings.PublicHost, PublicPort, session.Tokens[0], session.Tokens[1]));
    }

    private void OnClaim(Claim claim)
    {
        if (!_tokens.TryGetValue(claim.Token, out var held) || held.Session.CallId != claim.CallId)
        {
            Sender.Tell(new ClaimRefused(RefusalCode.UnknownToken, "unknown or expired token"));
            return;
        }
        var (session, side) = held;
        if (session.Sides[side] is not null)
        {
            Sender.Tell(new ClaimRefused(RefusalCode.TokenUsed, "token already used"));
            return;
        }
        session.Sides[side] = (Sender, claim.Socket);
        Context.Watch(Sender);
        if (!session.IsPaired) return;
        Timers.Cancel(new Expire(session.Id));
        // Both tokens are spent: nobody can join this session again.
        _tokens.Remove(session.Tokens[0]);
        _tokens.Remove(session.Tokens[1]);
        var (first, second) = (session.Sides[0]!.Value, session.Sides[1]!.Value);
        first.Connection.Tell(new Paired(second.Connection, second.Socket, session.CallId));
        second.Connection.Tell(new Paired(first.Connection, first.Socket, session.CallId));
        _log.Info("Session {0} for call {1} paired", session.Id, session.CallId);
    }

    private void OnExpire(Expire expire)
    {
        if (!_sessions.TryGetValue(expire.SessionId, out var session) || session.IsPaired) return;
        _log.Info("Session {0} for call {1} expired before both sides joined", session.Id, session.CallId);
        RemoveSession(session);
        foreach (var side in session.Sides) side?.Connection.Tell(new ClaimRefused(RefusalCode.UnknownToken, "token expired before the other side joined"));
    }

    private void OnConnectionStopped(Terminated terminated)
    {
        var session = _sessions.Values.FirstOrDefault(s => s.Sides.Any(x => x?.Connection.Equals(terminated.ActorRef) == true));
        if (session is null) return;
        var index = Array.FindIndex(session.Sides, x => x?.Connection.Equals(terminated.ActorRef) == true);
        session.Sides[index] = null;
        if (session.Sides.All(x => x is null) || !_tokens.ContainsKey(session.Tokens[0])) RemoveSession(session);
    }

    private void RemoveSession(Session session)
    {
        if (_sessions.Remove(session.Id)) CallsMetrics.RelaySessions.Add(-1);
        _tokens.Remove(session.Tokens[0]);
        _tokens.Remove(session.Tokens[1]);
        Timers.Cancel(new Expire(session.Id));
        _dirty = true;
    }

    private void PublishLoad()
    {
        _dirty = false;
        var info = new RelayInfo(_cluster.SelfAddress.ToString(), MyPath,
            _settings.PublicHost, PublicPort, _sessions.Count, _settings.MaxSessions, DateTime.UtcNow.Ticks);
        _replicator.Tell(Dsl.Update(RelayRegistry.Key, LWWDictionary<string, RelayInfo>.Empty, WriteLocal.Instance,
            map => map.SetItem(_cluster, info.NodeAddress, info)));
    }
}
