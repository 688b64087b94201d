using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using Akka.Remote.Transport;

namespace Actors.Lab.ClusterLinks;

/// <summary>
/// One per node, at <c>/user/cluster-links</c>: drops this node's Akka.Remote traffic to and/or
/// from given nodes through the throttler transport adapter (<c>trttl</c>, a blackhole per peer
/// address), and lets it through again on heal. Requests are applied one at a time (later ones
/// wait, stashed, until the transport has acknowledged the current one) and each is answered with
/// the resulting <see cref="ClusterLinkState"/>, also published on the EventStream.
/// </summary>
public sealed class ClusterLinkFaults : ReceiveActor, IWithStash
{
    public const string ActorName = "cluster-links";

    /// <summary>The HOCON every node needs for this actor to work (set in config/cluster.conf).</summary>
    public const string TransportHocon = "akka.remote.dot-netty.tcp.applied-adapters = [trttl]";

    private sealed record Applied(IActorRef Requester, Dictionary<string, BlockedLink> Next, string? Error);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    // Keyed by host:port: the protocol and system name of an address do not matter to the throttler.
    private Dictionary<string, BlockedLink> _blocked = new();
    private readonly string _self;

    public IStash Stash { get; set; } = null!;

    public static Props Props() => Akka.Actor.Props.Create(() => new ClusterLinkFaults());

    public ClusterLinkFaults()
    {
        _self = Provider(Context.System)?.DefaultAddress.ToString() ?? Context.System.Name;
        Ready();
    }

    private static IRemoteActorRefProvider? Provider(ActorSystem system) =>
        ((ExtendedActorSystem)system).Provider as IRemoteActorRefProvider;

    private void Ready()
    {
        Receive<BlockTraffic>(Block);
        Receive<HealTraffic>(Heal);
        Receive<GetClusterLinkState>(_ => Sender.Tell(State()));
    }

    private void Applying()
    {
        Receive<Applied>(applied =>
        {
            // A refused change keeps the previous state; a failed one records what was asked, so a heal undoes it.
            _blocked = applied.Next;
            var state = State();
            applied.Requester.Tell(applied.Error is null ? state : new ClusterLinkError(_self, applied.Error));
            Context.System.EventStream.Publish(state);
            if (applied.Error is null) _log.Info("Cluster links: {0}", Describe(state));
            else _log.Warning("Cluster links: {0}; now {1}", applied.Error, Describe(state));
            Become(Ready);
            Stash.UnstashAll();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Block(BlockTraffic block)
    {
        var next = new Dictionary<string, BlockedLink>(_blocked);
        var changes = new List<(Address Address, BlockDirection Direction)>();
        foreach (var text in block.Addresses ?? [])
        {
            if (!TryParse(text, out var address, out var key))
            {
                Sender.Tell(new ClusterLinkError(_self, $"'{text}' is not a node address such as akka.trttl.tcp://actors@127.0.0.1:4053"));
                return;
            }
            var direction = next.TryGetValue(key, out var existing) ? Merge(existing.Direction, block.Direction) : block.Direction;
            next[key] = new BlockedLink(text, direction);
            changes.Add((address, direction));
        }
        Apply(changes.Select(c => new SetThrottle(c.Address, ToThrottle(c.Direction), Blackhole.Instance)), next);
    }

    private void Heal(HealTraffic heal)
    {
        var next = new Dictionary<string, BlockedLink>(_blocked);
        var targets = new List<Address>();
        var addresses = heal.Addresses is { Count: > 0 } ? heal.Addresses : _blocked.Values.Select(b => b.Address).ToList();
        foreach (var text in addresses)
        {
            if (!TryParse(text, out var address, out var key))
            {
                Sender.Tell(new ClusterLinkError(_self, $"'{text}' is not a node address"));
                return;
            }
            next.Remove(key);
            targets.Add(address);
        }
        Apply(targets.Select(a => new SetThrottle(a, ThrottleTransportAdapter.Direction.Both, Unthrottled.Instance)), next);
    }

    private void Apply(IEnumerable<SetThrottle> commands, Dictionary<string, BlockedLink> next)
    {
        var transport = Provider(Context.System)?.Transport;
        var list = commands.ToList();
        if (transport is null)
        {
            Sender.Tell(new ClusterLinkError(_self, "this node has no Akka.Remote transport (akka.actor.provider must be remote or cluster)"));
            return;
        }
        // A transport without the adapter acknowledges (and ignores) every command, so look at the
        // address instead: the adapter adds its name to the scheme (akka.trttl.tcp).
        if (!Provider(Context.System)!.DefaultAddress.Protocol.Split('.').Contains(ThrottleTransportAdapter.Scheme))
        {
            Sender.Tell(new ClusterLinkError(_self, $"this node's transport has no throttler: set {TransportHocon} on every node"));
            return;
        }
        var requester = Sender;
        var current = _blocked; // the continuation runs on another thread: no actor state in it
        Become(Applying);
        Task.WhenAll(list.Select(c => transport.ManagementCommand(c))).ContinueWith(t =>
        {
            if (t.IsFaulted || t.IsCanceled)
                return new Applied(requester, next, $"the transport did not apply the change: {t.Exception?.GetBaseException().Message ?? "cancelled"}");
            if (t.Result.Any(ok => !ok))
                return new Applied(requester, current, "the transport refused the change");
            return new Applied(requester, next, null);
        }).PipeTo(Self);
    }

    private ClusterLinkState State() =>
        new(_self, _blocked.Values.OrderBy(b => b.Address, StringComparer.Ordinal).ToList());

    private static string Describe(ClusterLinkState state) =>
        state.Blocked.Count == 0 ? "nothing blocked" : string.Join(", ", state.Blocked.Select(b => $"{b.Direction} {b.Address}"));

    private static BlockDirection Merge(BlockDirection a, BlockDirection b) => a == b ? a : BlockDirection.Both;

    private static ThrottleTransportAdapter.Direction ToThrottle(BlockDirection direction) => direction switch
    {
        BlockDirection.Outbound => ThrottleTransportAdapter.Direction.Send,
        BlockDirection.Inbound => ThrottleTransportAdapter.Direction.Receive,
        _ => ThrottleTransportAdapter.Direction.Both,
    };

    private static bool TryParse(string text, out Address address, out string key)
    {
        address = Address.AllSystems;
        key = "";
        try
        {
            address = Address.Parse(text);
            if (address.Host is null || address.Port is null) return false;
            key = $"{address.Host}:{address.Port}";
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
