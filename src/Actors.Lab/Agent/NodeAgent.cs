using Actors.Net.Telemetry;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Actors.Lab.Agent;

/// <summary>
/// Runs on every cluster node (<c>/user/lab-agent</c>, started by the host for every role). Every
/// <c>interval</c> it reads the node's meters and sends a <see cref="NodeReport"/> to each lab
/// member of the cluster; role events published on the EventStream (<see cref="RoleEvent"/>) go
/// to the labs at once, at most <see cref="MaxEventsPerInterval"/> per interval (the rest are
/// counted and reported as one "events-dropped" event), so a busy role cannot flood the lab.
/// With no lab in the cluster it sends nothing.
/// </summary>
public sealed class NodeAgent : ReceiveActor, IWithTimers
{
    public const int MaxEventsPerInterval = 20;

    private sealed class Tick { public static readonly Tick Instance = new(); }

    private readonly string _node;
    private readonly IReadOnlyList<string> _roles;
    private readonly TimeSpan _interval;
    private readonly MetricsReader _metrics;
    private readonly HashSet<Address> _labs = [];
    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly long _startedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly int _pid = Environment.ProcessId;
    private int _eventsThisInterval;
    private int _eventsDropped;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Starts the process' metrics listener now (not when the actor starts), so no early measurement is missed.</summary>
    public static Props Props(string node, IReadOnlyList<string> roles, TimeSpan? interval = null)
    {
        var metrics = MetricsReader.Shared;
        return Akka.Actor.Props.Create(() => new NodeAgent(node, roles, interval ?? TimeSpan.FromSeconds(1), metrics));
    }

    public NodeAgent(string node, IReadOnlyList<string> roles, TimeSpan interval, MetricsReader metrics)
    {
        _metrics = metrics;
        _node = node;
        _roles = roles;
        _interval = interval;
        Receive<ClusterEvent.MemberUp>(up => { if (up.Member.HasRole("lab")) _labs.Add(up.Member.Address); });
        Receive<ClusterEvent.MemberRemoved>(removed => _labs.Remove(removed.Member.Address));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<RoleEvent>(OnRoleEvent);
        Receive<Tick>(_ => OnTick());
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));
        Context.System.EventStream.Subscribe(Self, typeof(RoleEvent));
        Timers.StartPeriodicTimer(Tick.Instance, Tick.Instance, _interval);
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }

    private void OnRoleEvent(RoleEvent e)
    {
        if (_eventsThisInterval >= MaxEventsPerInterval) { _eventsDropped++; return; }
        _eventsThisInterval++;
        SendToLabs(new NodeEvent(_node, e.Kind, e.Text, Now()));
    }

    private void OnTick()
    {
        if (_eventsDropped > 0)
            SendToLabs(new NodeEvent(_node, "events-dropped", $"{_eventsDropped} role events not sent (more than {MaxEventsPerInterval} per {_interval.TotalSeconds:0.#} s)", Now()));
        _eventsThisInterval = 0;
        _eventsDropped = 0;
        if (_labs.Count == 0) return;
        SendToLabs(new NodeReport(_node, _cluster.SelfAddress.ToString(), _roles, _pid, _startedUnixMs, Now(), _metrics.Snapshot()));
    }

    private void SendToLabs(object message)
    {
        foreach (var lab in _labs)
            Context.ActorSelection(lab + LabPaths.Status).Tell(message);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
