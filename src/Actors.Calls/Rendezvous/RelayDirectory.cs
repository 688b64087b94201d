using Actors.Calls.Relay;
using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;

namespace Actors.Calls.Rendezvous;

/// <summary>
/// One per rendezvous node (<c>relays</c>): keeps the relays' published load (Distributed Data)
/// and which relay nodes are up and reachable, and picks the least loaded live one (a merely
/// unreachable relay only when no live one is left; removed relays are forgotten).
/// </summary>
public sealed class RelayDirectory : ReceiveActor
{
    public sealed record PickRelay(string CallId, IReadOnlyCollection<string> Exclude);
    public sealed record RelayPicked(string CallId, RelayInfo Relay);
    public sealed record NoRelay(string CallId);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private IReadOnlyDictionary<string, RelayInfo> _relays = new Dictionary<string, RelayInfo>();
    private readonly HashSet<string> _down = [];

    public static Props Props() => Akka.Actor.Props.Create(() => new RelayDirectory());

    public RelayDirectory()
    {
        Receive<Changed>(changed =>
        {
            if (changed.Key.Equals(RelayRegistry.Key)) _relays = changed.Get(RelayRegistry.Key).Entries;
        });
        Receive<ClusterEvent.UnreachableMember>(e => _down.Add(e.Member.Address.ToString()));
        Receive<ClusterEvent.ReachableMember>(e => _down.Remove(e.Member.Address.ToString()));
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            var address = e.Member.Address.ToString();
            _down.Add(address);
            _replicator.Tell(Dsl.Update(RelayRegistry.Key, LWWDictionary<string, RelayInfo>.Empty, WriteLocal.Instance,
                map => map.ContainsKey(address) ? map.Remove(_cluster, address) : map));
        });
        Receive<ClusterEvent.MemberUp>(e => _down.Remove(e.Member.Address.ToString()));
        Receive<ClusterEvent.IClusterDomainEvent>(_ => { });
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(_ => { });
        // Read the local replica at pick time: fresher than the last change notification.
        Receive<PickRelay>(pick => _replicator.Tell(Dsl.Get(RelayRegistry.Key, ReadLocal.Instance, (pick, Sender))));
        Receive<GetSuccess>(g => g.Request is ValueTuple<PickRelay, IActorRef>, g =>
        {
            var (pick, replyTo) = ((PickRelay, IActorRef))g.Request!;
            _relays = g.Get(RelayRegistry.Key).Entries;
            Pick(pick, replyTo);
        });
        Receive<NotFound>(n => n.Request is ValueTuple<PickRelay, IActorRef>, n =>
        {
            var (pick, replyTo) = ((PickRelay, IActorRef))n.Request!;
            Pick(pick, replyTo);
        });
        Receive<GetFailure>(f => f.Request is ValueTuple<PickRelay, IActorRef>, f =>
        {
            var (pick, replyTo) = ((PickRelay, IActorRef))f.Request!;
            Pick(pick, replyTo);
        });
    }

    private void Pick(PickRelay pick, IActorRef replyTo)
    {
        {
            // Live relays first; one the failure detector merely suspects is still better than none
            // (a busy machine can miss heartbeats). Relays that already failed this call are out.
            var best = _relays.Values
                .Where(r => !pick.Exclude.Contains(r.NodeAddress) && r.Sessions < r.MaxSessions)
                .OrderBy(r => _down.Contains(r.NodeAddress)).ThenBy(r => r.Load).ThenBy(r => r.Sessions).ThenBy(_ => Random.Shared.Next())
                .FirstOrDefault();
            replyTo.Tell(best is null ? new NoRelay(pick.CallId) : new RelayPicked(pick.CallId, best));
        }
    }

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(RelayRegistry.Key, Self));
        _cluster.Subscribe(Self, ClusterEvent.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.MemberUp));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);
}
