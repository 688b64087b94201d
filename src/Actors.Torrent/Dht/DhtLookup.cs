using System.Diagnostics;
using System.Net;
using Akka.Actor;

namespace Actors.Torrent.Dht;

/// <summary>
/// One iterative lookup (Kademlia, BEP 5), a child of its <see cref="DhtNode"/>: it keeps a short
/// list of candidates ordered by XOR distance to the target, keeps α queries in flight (sent
/// through the node, which owns the socket and the transaction ids), and ends when the k closest
/// candidates that did not fail have all answered. A get_peers lookup collects the peers it is
/// given; with an announce it then sends announce_peer, with each node's token, to the k closest
/// that answered. It replies to whoever asked and stops. A query unanswered after
/// <see cref="DhtSettings.SlowQueryAfter"/> gives its slot to the next node (its late answer still
/// counts), so a dead node costs a lookup one short wait, not a full timeout.
/// </summary>
public sealed class DhtLookup : ReceiveActor, IWithTimers
{
    private const int MaxCandidates = 64;
    private const int MaxPeers = 500;

    private readonly NodeId _target;
    private readonly LookupKind _kind;
    private readonly AnnouncePeer? _announce;
    private readonly IActorRef _replyTo;
    private readonly DhtSettings _settings;
    private readonly IActorRef _node;
    private readonly List<Candidate> _candidates = [];
    private readonly Dictionary<IPEndPoint, Candidate> _byEndPoint = new();
    private readonly HashSet<IPEndPoint> _peers = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    /// <summary>Queries holding one of the α slots (a slow one no longer does).</summary>
    private int _inFlight;
    private int _queried;
    private int _responded;
    private int _peerHop;
    private readonly HashSet<IPEndPoint> _announcesPending = new();
    private bool _replied;
    private int _acceptedBy;
    private LookupCompleted? _result;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(NodeId target, LookupKind kind, IReadOnlyList<NodeContact> seeds, IReadOnlyList<IPEndPoint> unknownSeeds,
        IActorRef replyTo, DhtSettings settings, AnnouncePeer? announce = null, IReadOnlyList<IPEndPoint>? localPeers = null) =>
        Akka.Actor.Props.Create(() => new DhtLookup(target, kind, seeds, unknownSeeds, replyTo, settings, announce, localPeers ?? Array.Empty<IPEndPoint>()));

    public DhtLookup(NodeId target, LookupKind kind, IReadOnlyList<NodeContact> seeds, IReadOnlyList<IPEndPoint> unknownSeeds,
        IActorRef replyTo, DhtSettings settings, AnnouncePeer? announce, IReadOnlyList<IPEndPoint> localPeers)
    {
        // Peers announced to our own node count too (hop 0): we are part of the DHT we search.
        foreach (var peer in localPeers) _peers.Add(peer);
        _target = target;
        _kind = kind;
        _announce = announce;
        _replyTo = replyTo;
        _settings = settings;
        _node = Context.Parent;
        foreach (var seed in seeds) AddCandidate(seed.Id, seed.EndPoint, hop: 1);
        foreach (var endPoint in unknownSeeds) AddCandidate(null, endPoint, hop: 1);
        Searching();
    }

    protected override void PreStart()
    {
        Timers.StartSingleTimer("deadline", Deadline.Instance, _settings.LookupDeadline);
        Step();
    }

    private void Searching()
    {
        Receive<QueryAnswered>(OnAnswered);
        Receive<QueryFailed>(OnFailed);
        Receive<Deadline>(_ => Finish(timedOut: true));
        Receive<SlowQuery>(OnSlow);
    }

    private void Announcing()
    {
        Receive<QueryAnswered>(a => AnnounceDone(a.From, accepted: true));
        Receive<QueryFailed>(f => AnnounceDone(f.To, accepted: false));
        Receive<Deadline>(_ => Reply());
    }

    private void OnAnswered(QueryAnswered answer)
    {
        if (!_byEndPoint.TryGetValue(answer.From, out var candidate) || candidate.State != CandidateState.InFlight) return;
        Settle(candidate);
        _responded++;
        var response = answer.Response;
        candidate.State = CandidateState.Responded;
        candidate.Id ??= response.Sender;
        candidate.Token = response.Token;
        if (_kind == LookupKind.GetPeers && response.Peers.Count > 0)
        {
            if (_peers.Count == 0) _peerHop = candidate.Hop;
            foreach (var peer in response.Peers)
                if (_peers.Count < MaxPeers) _peers.Add(peer);
        }
        foreach (var node in response.Nodes) AddCandidate(node.Id, node.EndPoint, candidate.Hop + 1);
        Step();
    }

    private void OnFailed(QueryFailed failed)
    {
        if (!_byEndPoint.TryGetValue(failed.To, out var candidate) || candidate.State != CandidateState.InFlight) return;
        Settle(candidate);
        candidate.State = CandidateState.Failed;
        Step();
    }

    /// <summary>A query ended: it gives back its slot unless it already did when it became slow.</summary>
    private void Settle(Candidate candidate)
    {
        if (candidate.Slow) return;
        _inFlight--;
        Timers.Cancel(candidate.EndPoint);
    }

    private void OnSlow(SlowQuery slow)
    {
        if (!_byEndPoint.TryGetValue(slow.To, out var candidate) || candidate.State != CandidateState.InFlight || candidate.Slow) return;
        candidate.Slow = true;
        _inFlight--;
        Step();
    }

    private void AddCandidate(NodeId? id, IPEndPoint endPoint, int hop)
    {
        endPoint = CompactEncoding.Normalize(endPoint);
        if (_byEndPoint.ContainsKey(endPoint)) return;
        if (id is { } known)
        {
            if (_candidates.Any(c => c.Id == known)) return;
            if (_candidates.Count(c => c.Id is not null) >= MaxCandidates)
            {
                // Full: the newcomer must beat the farthest candidate not yet asked.
                var farthest = _candidates.Where(c => c.Id is not null && c.State == CandidateState.New).MaxBy(c => c.Id!.Value.Xor(_target));
                if (farthest is null || farthest.Id!.Value.Xor(_target).CompareTo(known.Xor(_target)) <= 0) return;
                _candidates.Remove(farthest);
                _byEndPoint.Remove(farthest.EndPoint);
            }
        }
        var candidate = new Candidate(id, endPoint, hop);
        _candidates.Add(candidate);
        _byEndPoint[endPoint] = candidate;
    }

    /// <summary>Sends queries while fewer than α are in flight; finishes when nothing near is left to ask.</summary>
    private void Step()
    {
        while (_inFlight < _settings.Alpha && _queried < _settings.MaxQueriesPerLookup && NextToAsk() is { } next)
        {
            next.State = CandidateState.InFlight;
            _inFlight++;
            _queried++;
            QueryBody body = _kind == LookupKind.GetPeers ? new QueryBody.GetPeers(_target) : new QueryBody.FindNode(_target);
            _node.Tell(new SendQuery(next.EndPoint, next.Id, body));
            if (_settings.SlowQueryAfter > TimeSpan.Zero)
                Timers.StartSingleTimer(next.EndPoint, new SlowQuery(next.EndPoint), _settings.SlowQueryAfter);
        }
        if (_inFlight == 0) Finish(timedOut: false);
    }

    /// <summary>
    /// The nearest candidate not yet asked among the k nearest that did not fail; seeds with unknown
    /// ids (bootstrap endpoints) first.
    /// </summary>
    private Candidate? NextToAsk()
    {
        var unknown = _candidates.FirstOrDefault(c => c.Id is null && c.State == CandidateState.New);
        if (unknown is not null) return unknown;
        return _candidates
            .Where(c => c.Id is not null && c.State != CandidateState.Failed)
            .OrderBy(c => c.Id!.Value.Xor(_target))
            .Take(_settings.K)
            .FirstOrDefault(c => c.State == CandidateState.New);
    }

    private void Finish(bool timedOut)
    {
        if (_result is not null) return;
        var closest = _candidates
            .Where(c => c.State == CandidateState.Responded && c.Id is not null)
            .OrderBy(c => c.Id!.Value.Xor(_target))
            .Take(_settings.K)
            .ToList();
        var hops = _kind == LookupKind.GetPeers && _peers.Count > 0 ? _peerHop : closest.FirstOrDefault()?.Hop ?? 0;
        _result = new LookupCompleted(_target, _kind, _peers.ToList(), closest.Select(c => new NodeContact(c.Id!.Value, c.EndPoint)).ToList(),
            hops, _queried, _responded, _clock.Elapsed, timedOut, closest.Count == 0 ? "no node answered" : null);
        if (_announce is null)
        {
            Reply();
            return;
        }
        foreach (var node in closest.Where(c => c.Token is not null))
        {
            _announcesPending.Add(node.EndPoint);
            _node.Tell(new SendQuery(node.EndPoint, node.Id, new QueryBody.Announce(_target, _announce.Port, _announce.ImpliedPort, node.Token!)));
        }
        if (_announcesPending.Count == 0)
        {
            Reply();
            return;
        }
        Become(Announcing);
        // Every announce is answered or timed out by the node; this only bounds a lost reply.
        Timers.StartSingleTimer("deadline", Deadline.Instance, _settings.QueryTimeout * 2);
    }

    private void AnnounceDone(IPEndPoint from, bool accepted)
    {
        // A late answer to a get_peers query (after the deadline) is not an announce's.
        if (!_announcesPending.Remove(from)) return;
        if (accepted) _acceptedBy++;
        if (_announcesPending.Count == 0) Reply();
    }

    private void Reply()
    {
        if (_replied) return;
        _replied = true;
        _replyTo.Tell(_announce is null ? _result! : new AnnounceCompleted(_target, _result!, _acceptedBy));
        Context.Stop(Self);
    }

    private enum CandidateState { New, InFlight, Responded, Failed }

    private sealed class Candidate(NodeId? id, IPEndPoint endPoint, int hop)
    {
        public NodeId? Id { get; set; } = id;
        public IPEndPoint EndPoint { get; } = endPoint;
        public int Hop { get; } = hop;
        public CandidateState State { get; set; }
        public byte[]? Token { get; set; }
        /// <summary>Unanswered past <see cref="DhtSettings.SlowQueryAfter"/>: no longer holds a slot.</summary>
        public bool Slow { get; set; }
    }

    private sealed record SlowQuery(IPEndPoint To);

    private sealed record Deadline
    {
        public static Deadline Instance { get; } = new();
    }
}
