using Actors.Lab.Agent;
using Actors.Lab.Events;
using Actors.Lab.Processes;
using Akka.Actor;
using Akka.Cluster;

namespace Actors.Lab.Status;

/// <summary>
/// The lab's view of the cluster (<c>status</c>, the agents' destination, see <see cref="LabPaths"/>):
/// membership, reachability and leader from cluster events; figures from the agents'
/// <see cref="NodeReport"/>s (rates and short histories computed here); how each node was
/// started from the manifests, and whether its process runs or is paused from /proc.
/// Member events and the agents' role events go to the event log.
/// </summary>
public sealed class ClusterStatus : ReceiveActor, IWithTimers
{
    private sealed class SampleProcesses { public static readonly SampleProcesses Instance = new(); }

    public const int HistoryLength = 60;

    private sealed class MemberView(Member member)
    {
        public Member Member { get; set; } = member;
        public bool Reachable { get; set; } = true;
    }

    private sealed record RemovedView(Member Member, MemberStatus PreviousStatus, int? Pid);

    /// <summary>The latest report of one node, the one before it (for rates), and the sparkline rings.</summary>
    private sealed class ReportView(NodeReport report)
    {
        public NodeReport Last { get; set; } = report;
        public NodeReport? Previous { get; set; }
        public Dictionary<string, Queue<double>> History { get; } = new(StringComparer.Ordinal);
    }

    private readonly ManifestStore _manifests;
    private readonly IActorRef _events;
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    // A role every registry-keeping node adds to its own (config/cluster.conf): never its name.
    private readonly string _dataRole = Context.System.Settings.Config.GetString("akka.cluster.distributed-data.role", "");
    private readonly Dictionary<string, MemberView> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RemovedView> _removed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReportView> _reports = new(StringComparer.Ordinal);
    private Address? _leader;
    /// <summary>The last report of each process that is no member (peer, caller), by report key, and when it came.</summary>
    private readonly Dictionary<string, (ProcessReport Report, long ReceivedUnixMs)> _processes = new(StringComparer.Ordinal);
    /// <summary>Calls as each side last reported them (key: call id / role), newest kept.</summary>
    private readonly Dictionary<string, CallView> _calls = new(StringComparer.Ordinal);
    public const int MaxCalls = 100;
    private static readonly TimeSpan ProcessFresh = TimeSpan.FromSeconds(5), ProcessShown = TimeSpan.FromSeconds(60), ProcessForgotten = TimeSpan.FromMinutes(10);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ManifestStore manifests, IActorRef events) =>
        Akka.Actor.Props.Create(() => new ClusterStatus(manifests, events));

    public ClusterStatus(ManifestStore manifests, IActorRef events)
    {
        _manifests = manifests;
        _events = events;
        Receive<ClusterEvent.CurrentClusterState>(OnCurrentState);
        Receive<ClusterEvent.MemberRemoved>(OnRemoved);
        Receive<ClusterEvent.IMemberEvent>(OnMemberEvent);
        Receive<ClusterEvent.UnreachableMember>(e => OnReachability(e.Member, false));
        Receive<ClusterEvent.ReachableMember>(e => OnReachability(e.Member, true));
        Receive<ClusterEvent.LeaderChanged>(OnLeaderChanged);
        Receive<NodeReport>(OnReport);
        Receive<ProcessReport>(OnProcessReport);
        Receive<NodeEvent>(e => _events.Tell(new RecordEvent(e.Node, e.Kind, e.Text, e.UnixMs)));
        Receive<GetStatus>(_ => Sender.Tell(Snapshot()));
        Receive<SampleProcesses>(_ => OnSampleProcesses());
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.LeaderChanged));
        Timers.StartPeriodicTimer(SampleProcesses.Instance, SampleProcesses.Instance, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Processes with a manifest but no cluster address (the peer) run no agent: the lab reads
    /// their CPU time and memory from /proc (same machine) and files them as a report of their own.
    /// </summary>
    private void OnSampleProcesses()
    {
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var (key, (_, received)) in _processes.ToList())
            if (nowMs - received > ProcessForgotten.TotalMilliseconds) { _processes.Remove(key); _reports.Remove(key); }
        foreach (var manifest in _manifests.ReadAll().Where(m => m.Address.Length == 0))
        {
            // A process that reports over HTTP has figures of its own; /proc is for those that do not.
            if (_processes.TryGetValue(ProcessKey(manifest), out var reported) && nowMs - reported.ReceivedUnixMs < ProcessFresh.TotalMilliseconds) continue;
            if (manifest.State() == ProcessState.Gone || Posix.Usage(manifest.Pid) is not { } usage) continue;
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var started = now - (long)(usage.AgeSeconds * 1000);
            OnReport(new NodeReport(manifest.Name, ProcessKey(manifest), [], manifest.Pid, started, now,
            [
                new Figure("actors.process.cpu.time", Figure.Counter, "s", "CPU time used by the process", "", usage.CpuSeconds),
                new Figure("actors.process.memory.working_set", Figure.Gauge, "By", "resident memory of the process", "", usage.ResidentBytes),
            ]));
        }
    }

    /// <summary>The report key of a process that is no cluster member: it has no address.</summary>
    private static string ProcessKey(NodeManifest manifest) => "process:" + manifest.Name;

    /// <summary>
    /// A peer's or caller's report (POST /api/report). It is named after the manifest of its pid
    /// when run-cluster or the lab started it ("peer"), else by the name it gives ("peer-1234").
    /// </summary>
    private void OnProcessReport(ProcessReport report)
    {
        var name = _manifests.ReadAll().FirstOrDefault(m => m.Pid == report.Pid && m.Address.Length == 0)?.Name ?? report.Node;
        var key = "process:" + name;
        OnReport(new NodeReport(name, key, report.Roles, report.Pid, report.StartedUnixMs, report.SentUnixMs, report.Figures));
        _processes[key] = (report with { Node = name }, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        foreach (var call in report.Calls ?? []) _calls[call.CallId + "/" + call.Role] = call;
        foreach (var old in _calls.OrderByDescending(c => c.Value.UpdatedUnixMs).Skip(MaxCalls).Select(c => c.Key).ToList()) _calls.Remove(old);
    }

    private IReadOnlyList<SwarmView> Swarms(long now)
    {
        var torrents = _processes.Values.Where(p => now - p.ReceivedUnixMs < 30_000)
            .SelectMany(p => (p.Report.Torrents ?? []).Select(t => (p.Report.Node, Torrent: t)));
        var swarms = new List<SwarmView>();
        foreach (var swarm in torrents.GroupBy(t => t.Torrent.InfoHash, StringComparer.OrdinalIgnoreCase))
        {
            var peers = new Dictionary<string, SwarmPeer>(StringComparer.OrdinalIgnoreCase);
            var transfers = new Dictionary<(string, string), long>();
            foreach (var (node, t) in swarm)
            {
                peers[t.PeerId] = new SwarmPeer(t.PeerId, node + t.Label, node, // label: "" or "#3" (one of --count peers)
                    t.Total == 0 ? null : Math.Round(100.0 * t.Have / t.Total, 1), true);
                foreach (var e in t.Exchanges)
                {
                    peers.TryAdd(e.Peer, new SwarmPeer(e.Peer, e.Remote, "", null, false));
                    if (e.Uploaded > 0) Max(transfers, (t.PeerId, e.Peer), e.Uploaded);
                    if (e.Downloaded > 0) Max(transfers, (e.Peer, t.PeerId), e.Downloaded);
                }
            }
            swarms.Add(new SwarmView(swarm.Key, swarm.First().Torrent.Name, peers.Values.OrderBy(p => p.Label, StringComparer.Ordinal).ToList(),
                transfers.OrderByDescending(t => t.Value).Select(t => new SwarmTransfer(t.Key.Item1, t.Key.Item2, t.Value)).ToList()));
        }
        return swarms;

        static void Max(Dictionary<(string, string), long> map, (string, string) pair, long bytes) =>
            map[pair] = Math.Max(bytes, map.GetValueOrDefault(pair));
    }

    private IReadOnlyList<CallStatus> Calls() => _calls.Values
        .GroupBy(c => c.CallId, StringComparer.Ordinal)
        .Select(sides =>
        {
            var caller = sides.FirstOrDefault(c => c.Role == "caller");
            var callee = sides.FirstOrDefault(c => c.Role != "caller");
            var first = caller ?? callee!;
            var latest = sides.MaxBy(c => c.UpdatedUnixMs)!;
            return new CallStatus(first.CallId, caller?.Id ?? callee!.Peer, caller?.Peer ?? callee!.Id,
                sides.Any(c => c.State == "ended") ? "ended" : latest.State, caller?.Path ?? callee?.Path,
                caller?.RttMs ?? callee?.RttMs, caller?.JitterMs ?? callee?.JitterMs, caller?.Loss ?? callee?.Loss,
                caller?.Result ?? callee?.Result, latest.UpdatedUnixMs);
        })
        .OrderByDescending(c => c.UpdatedUnixMs).Take(20).ToList();

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    public static string Key(Address address) => $"{address.Host}:{address.Port}";

    private void OnCurrentState(ClusterEvent.CurrentClusterState state)
    {
        foreach (var member in state.Members)
            _members[Key(member.Address)] = new MemberView(member) { Reachable = !state.Unreachable.Contains(member) };
        _leader = state.Leader;
    }

    private void OnMemberEvent(ClusterEvent.IMemberEvent e)
    {
        var key = Key(e.Member.Address);
        if (_members.TryGetValue(key, out var view) && view.Member.UniqueAddress.Equals(e.Member.UniqueAddress))
            view.Member = e.Member;
        else
        {
            // A new incarnation on the same host:port (a restarted node) replaces the old one.
            _members[key] = new MemberView(e.Member);
            _removed.Remove(key);
        }
        var kind = e switch
        {
            ClusterEvent.MemberUp => "member-up",
            ClusterEvent.MemberJoined => "member-joined",
            ClusterEvent.MemberLeft => "member-leaving",
            ClusterEvent.MemberExited => "member-exited",
            ClusterEvent.MemberDowned => "member-down",
            ClusterEvent.MemberWeaklyUp => "member-weakly-up",
            _ => "member-" + e.Member.Status.ToString().ToLowerInvariant(),
        };
        Record(e.Member.Address, kind, $"{e.Member.Address} [{string.Join(",", e.Member.Roles)}] is {e.Member.Status}");
    }

    private void OnRemoved(ClusterEvent.MemberRemoved e)
    {
        var key = Key(e.Member.Address);
        if (_members.TryGetValue(key, out var view) && !view.Member.UniqueAddress.Equals(e.Member.UniqueAddress)) return;
        _members.Remove(key);
        _removed[key] = new RemovedView(e.Member, e.PreviousStatus, _reports.GetValueOrDefault(key)?.Last.Pid);
        Record(e.Member.Address, "member-removed", $"{e.Member.Address} removed (was {e.PreviousStatus})");
    }

    private void OnReachability(Member member, bool reachable)
    {
        if (_members.TryGetValue(Key(member.Address), out var view)) view.Reachable = reachable;
        Record(member.Address, reachable ? "member-reachable" : "member-unreachable",
            $"{member.Address} is {(reachable ? "reachable again" : "unreachable")}");
    }

    private void OnLeaderChanged(ClusterEvent.LeaderChanged e)
    {
        _leader = e.Leader;
        if (e.Leader is not null) Record(e.Leader, "leader-changed", $"{e.Leader} is the leader");
    }

    private void Record(Address address, string kind, string text) =>
        _events.Tell(new RecordEvent(NameOf(Key(address), _manifests.ReadAll()), kind, text));

    private void OnReport(NodeReport report)
    {
        string key;
        if (report.Address.StartsWith("process:", StringComparison.Ordinal)) key = report.Address;
        else
        {
            try { key = Key(Address.Parse(report.Address)); }
            catch (UriFormatException) { return; }
        }
        if (!_reports.TryGetValue(key, out var view))
        {
            _reports[key] = new ReportView(report);
            return;
        }
        if (view.Last.Pid != report.Pid) view.History.Clear(); // a new process: old rates mean nothing
        view.Previous = view.Last.Pid == report.Pid ? view.Last : null;
        view.Last = report;
        if (view.Previous is { } previous) AddHistory(view, previous, report);
    }

    private static void AddHistory(ReportView view, NodeReport previous, NodeReport report)
    {
        var seconds = Math.Max(0.001, (report.SentUnixMs - previous.SentUnixMs) / 1000.0);
        double Rate(string name) => Math.Max(0, (Sum(report, name) - Sum(previous, name)) / seconds);
        Push(view, "bytes_in", Rate("actors.net.bytes.received"));
        Push(view, "bytes_out", Rate("actors.net.bytes.sent"));
        Push(view, "requests", Rate("actors.web.requests"));
        Push(view, "cpu", 100 * Rate("actors.process.cpu.time"));
        Push(view, "memory_mb", Sum(report, "actors.process.memory.working_set") / (1024 * 1024));
    }

    private static double Sum(NodeReport report, string name) => report.Figures.Where(f => f.Name == name).Sum(f => f.Value);

    private static void Push(ReportView view, string series, double value)
    {
        if (!view.History.TryGetValue(series, out var ring)) view.History[series] = ring = new Queue<double>();
        ring.Enqueue(Math.Round(value, 2));
        while (ring.Count > HistoryLength) ring.Dequeue();
    }

    private string NameOf(string key, IReadOnlyList<NodeManifest> manifests)
    {
        var reported = _reports.GetValueOrDefault(key)?.Last.Node;
        if (!string.IsNullOrEmpty(reported)) return reported;
        var started = manifests.FirstOrDefault(m => m.Address == key)?.Name;
        if (started is not null) return started;
        var member = _members.GetValueOrDefault(key)?.Member ?? _removed.GetValueOrDefault(key)?.Member;
        return member is null ? key : $"{member.Roles.Order(StringComparer.Ordinal).FirstOrDefault(r => r != _dataRole) ?? "node"}@{key}";
    }

    private StatusSnapshot Snapshot()
    {
        var manifests = _manifests.ReadAll();
        var nodes = new Dictionary<string, NodeStatus>(StringComparer.Ordinal);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var leaderKey = _leader is null ? null : Key(_leader);

        foreach (var key in _members.Keys.Concat(_removed.Keys).Distinct())
        {
            var name = NameOf(key, manifests);
            var manifest = manifests.FirstOrDefault(m => m.Name == name);
            var member = _members.GetValueOrDefault(key);
            var removed = member is null ? _removed.GetValueOrDefault(key) : null;
            ProcessState? process = manifest?.State();
            // The removed incarnation's own process, still exiting, is not a node rejoining.
            if (removed is not null && manifest is not null && removed.Pid == manifest.Pid && process == ProcessState.Running) process = null;
            var status = NodeStatusRules.Resolve(member?.Member.Status, member?.Reachable ?? false, removed?.PreviousStatus, process, clusterMember: true);
            var roles = (member?.Member ?? removed!.Member).Roles.Order(StringComparer.Ordinal).ToList();
            nodes[name] = Node(name, roles, (member?.Member ?? removed!.Member).Address.ToString(), status, member?.Reachable ?? false,
                key == leaderKey, manifest, key, now);
        }
        foreach (var manifest in manifests.Where(m => !nodes.ContainsKey(m.Name)))
        {
            var process = manifest.State();
            var status = NodeStatusRules.Resolve(null, false, null, process, clusterMember: manifest.Address.Length > 0);
            var roles = manifest.Command.Count > 2 ? new List<string> { RoleOf(manifest) } : [];
            var key = manifest.Address.Length > 0 ? manifest.Address : ProcessKey(manifest);
            nodes[manifest.Name] = Node(manifest.Name, roles, manifest.Address, status, process == ProcessState.Running, false, manifest, key, now);
        }
        // Processes that report but nobody started for the lab (a peer or caller run by hand).
        foreach (var (key, (report, received)) in _processes.Where(p => !nodes.ContainsKey(p.Value.Report.Node)))
        {
            if (now - received > ProcessShown.TotalMilliseconds) continue;
            var fresh = now - received < ProcessFresh.TotalMilliseconds;
            nodes[report.Node] = Node(report.Node, report.Roles, "", fresh ? "up" : "stopped", fresh, false, null, key, now);
        }
        return new StatusSnapshot(now, _leader?.ToString(), nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal).ToList())
        {
            Swarms = Swarms(now),
            Calls = Calls(),
        };
    }

    /// <summary>The role word of a manifest's command line: the argument after the actors binary.</summary>
    private static string RoleOf(NodeManifest manifest)
    {
        var binary = manifest.Command.ToList().FindIndex(a => a.EndsWith("actors.dll", StringComparison.Ordinal) || a.EndsWith("/actors", StringComparison.Ordinal) || a == "actors");
        return binary >= 0 && binary + 1 < manifest.Command.Count ? manifest.Command[binary + 1] : "";
    }

    private NodeStatus Node(string name, IReadOnlyList<string> roles, string address, string status, bool reachable, bool leader,
        NodeManifest? manifest, string key, long now)
    {
        var report = _reports.GetValueOrDefault(key);
        // Figures of a node that stopped reporting are shown as they were, but not as rates.
        var fresh = report is not null && now - report.Last.SentUnixMs < 5000 && status is "up" or "leaving" or "joining";
        var figures = report is null ? [] : Figures(report, fresh);
        var history = report?.History.ToDictionary(h => h.Key, h => h.Value.ToArray(), StringComparer.Ordinal)
                      ?? new Dictionary<string, double[]>();
        return new NodeStatus(name, roles, address, status, reachable, leader,
            manifest?.Pid ?? report?.Last.Pid,
            fresh ? Math.Round((now - report!.Last.StartedUnixMs) / 1000.0, 1) : null,
            report?.Last.SentUnixMs, manifest is not null, figures, history);
    }

    private static List<FigureValue> Figures(ReportView view, bool withRates)
    {
        var previous = view.Previous?.Figures.ToDictionary(f => f.Name + "|" + f.Tags, f => f.Value, StringComparer.Ordinal);
        var seconds = view.Previous is null ? 0 : Math.Max(0.001, (view.Last.SentUnixMs - view.Previous.SentUnixMs) / 1000.0);
        return view.Last.Figures.Select(f =>
        {
            double? rate = null;
            if (withRates && f.Kind == Figure.Counter && previous is not null && previous.TryGetValue(f.Name + "|" + f.Tags, out var before))
                rate = Math.Round(Math.Max(0, f.Value - before) / seconds, 2);
            return new FigureValue(f.Name, f.Kind, f.Unit, f.Description, f.Tags, f.Value, rate);
        }).ToList();
    }
}
