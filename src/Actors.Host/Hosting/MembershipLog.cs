using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Actors.Host.Hosting;

/// <summary>Logs cluster membership changes with roles, so every node's log tells who is in the cluster.</summary>
public sealed class MembershipLog : ReceiveActor
{
    public static Props Props() => Akka.Actor.Props.Create<MembershipLog>();

    public MembershipLog()
    {
        var log = Context.GetLogger();
        Receive<ClusterEvent.MemberUp>(e => log.Info("Member up: {0} roles [{1}]", e.Member.Address, string.Join(",", e.Member.Roles)));
        Receive<ClusterEvent.MemberRemoved>(e => log.Info("Member removed: {0} (was {1})", e.Member.Address, e.PreviousStatus));
        Receive<ClusterEvent.UnreachableMember>(e => log.Warning("Member unreachable: {0}", e.Member.Address));
        Receive<ClusterEvent.ReachableMember>(e => log.Info("Member reachable again: {0}", e.Member.Address));
        ReceiveAny(_ => { });
    }

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
