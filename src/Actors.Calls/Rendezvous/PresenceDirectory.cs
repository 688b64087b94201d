using Akka.Actor;
using Akka.Cluster;
using Akka.DistributedData;
using Akka.Event;

namespace Actors.Calls.Rendezvous;

/// <summary>
/// One per rendezvous node (<c>presence</c>): writes this node's registrations into the cluster-wide
/// presence map and answers look-ups from the local replica. A newer registration of an identity
/// (here or on another node) displaces the older session: newest authenticated wins, the old
/// connection is told <c>Displaced</c> and closed. Entries of a node that left are dropped.
/// </summary>
public sealed class PresenceDirectory : ReceiveActor
{
    public sealed record Announce(PresenceEntry Entry, IActorRef Session);
    public sealed record Withdraw(string Id, string SessionPath);
    public sealed record Lookup(string Id, object Context);
    public sealed record LookupResult(string Id, PresenceEntry? Entry, object Context);
    /// <summary>Told to a local session whose identity was registered again, newer.</summary>
    public sealed record Displace(string Id, string Reason);

    private sealed record LookupRead(Lookup Request, IActorRef ReplyTo);

    private readonly Cluster _cluster = Cluster.Get(Context.System);
    private readonly IActorRef _replicator = DistributedData.Get(Context.System).Replicator;
    private readonly Dictionary<string, (IActorRef Session, PresenceEntry Entry)> _local = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IWriteConsistency _write = new WriteAll(TimeSpan.FromSeconds(2));

    public static Props Props() => Akka.Actor.Props.Create(() => new PresenceDirectory());

    public PresenceDirectory()
    {
        Receive<Announce>(OnAnnounce);
        Receive<Withdraw>(OnWithdraw);
        Receive<Lookup>(lookup => _replicator.Tell(Dsl.Get(PresenceRegistry.Key, ReadLocal.Instance, new LookupRead(lookup, Sender))));
        Receive<GetSuccess>(g => g.Request is LookupRead, OnLookupRead);
        Receive<NotFound>(n => n.Request is LookupRead, n =>
        {
            var read = (LookupRead)n.Request!;
            read.ReplyTo.Tell(new LookupResult(read.Request.Id, null, read.Request.Context));
        });
        Receive<GetFailure>(f => f.Request is LookupRead, f =>
        {
            var read = (LookupRead)f.Request!;
            read.ReplyTo.Tell(new LookupResult(read.Request.Id, null, read.Request.Context));
        });
        Receive<Changed>(OnChanged);
        Receive<ClusterEvent.MemberRemoved>(removed => RemoveNode(removed.Member.Address.ToString()));
        Receive<Terminated>(t =>
        {
            foreach (var (id, held) in _local.Where(kv => kv.Value.Session.Equals(t.ActorRef)).ToList())
                OnWithdraw(new Withdraw(id, held.Entry.SessionPath));
        });
        Receive<UpdateSuccess>(_ => { });
        Receive<IUpdateFailure>(f => _log.Debug("presence update not confirmed by all nodes: {0}", f)); // applied locally, gossip spreads it
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    protected override void PreStart()
    {
        _replicator.Tell(Dsl.Subscribe(PresenceRegistry.Key, Self));
        _cluster.Subscribe(Self, ClusterEvent.InitialStateAsEvents, typeof(ClusterEvent.MemberRemoved));
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void OnAnnounce(Announce announce)
    {
        var entry = announce.Entry;
        if (_local.TryGetValue(entry.Id, out var old) && !old.Session.Equals(announce.Session))
            old.Session.Tell(new Displace(entry.Id, "the same identity registered again"));
        _local[entry.Id] = (announce.Session, entry);
        Context.Watch(announce.Session);
        _replicator.Tell(Dsl.Update(PresenceRegistry.Key, LWWDictionary<string, PresenceEntry>.Empty, _write,
            map => map.SetItem(_cluster, entry.Id, entry)));
    }

    private void OnWithdraw(Withdraw withdraw)
    {
        if (_local.TryGetValue(withdraw.Id, out var held) && held.Entry.SessionPath == withdraw.SessionPath)
            _local.Remove(withdraw.Id);
        // Only remove the entry if it is still ours: a newer registration elsewhere must survive.
        _replicator.Tell(Dsl.Update(PresenceRegistry.Key, LWWDictionary<string, PresenceEntry>.Empty, WriteLocal.Instance,
            map => map.TryGetValue(withdraw.Id, out var current) && current.SessionPath == withdraw.SessionPath
                ? map.Remove(_cluster, withdraw.Id)
                : map));
    }

    private void OnLookupRead(GetSuccess success)
    {
        var read = (LookupRead)success.Request!;
        var map = success.Get(PresenceRegistry.Key);
        PresenceEntry? entry = map.TryGetValue(read.Request.Id, out var found) && IsLive(found) ? found : null;
        read.ReplyTo.Tell(new LookupResult(read.Request.Id, entry, read.Request.Context));
    }

    private void OnChanged(Changed changed)
    {
        if (!changed.Key.Equals(PresenceRegistry.Key)) return;
        var map = changed.Get(PresenceRegistry.Key);
        foreach (var (id, held) in _local.ToList())
        {
            if (map.TryGetValue(id, out var current) && current.SessionPath != held.Entry.SessionPath
                && current.RegisteredAtTicks > held.Entry.RegisteredAtTicks)
            {
                _log.Info("{0} registered again at {1}; displacing the session here", id, current.NodeAddress);
                held.Session.Tell(new Displace(id, "the same identity registered again"));
                _local.Remove(id);
            }
        }
    }

    private bool IsLive(PresenceEntry entry)
    {
        if (entry.NodeAddress == _cluster.SelfAddress.ToString()) return true;
        var state = _cluster.State;
        return state.Members.Any(m => m.Address.ToString() == entry.NodeAddress && m.Status == MemberStatus.Up)
               && state.Unreachable.All(m => m.Address.ToString() != entry.NodeAddress);
    }

    private void RemoveNode(string nodeAddress)
    {
        _replicator.Tell(Dsl.Update(PresenceRegistry.Key, LWWDictionary<string, PresenceEntry>.Empty, WriteLocal.Instance, map =>
        {
            foreach (var entry in map.Entries.Values.Where(e => e.NodeAddress == nodeAddress).ToList())
                map = map.Remove(_cluster, entry.Id);
            return map;
        }));
    }
}
