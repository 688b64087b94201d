using Actors.Lab.ClusterLinks;
using Actors.Lab.Events;
using Actors.Lab.Processes;
using Actors.Lab.Status;
using Akka.Actor;
using Akka.Cluster;

namespace Actors.Lab.Partitions;

/// <summary>
/// The cluster-link fault plane as the lab drives it (<c>partitions</c>): resolves a node spec with
/// <see cref="PartitionPlanner"/> against the members that are up (node names mapped to their
/// addresses from the status view), keeping the lab itself in the majority, and applies the plan
/// with <see cref="ClusterLinkClient"/> (each node's <c>/user/cluster-links</c>, the lab last), so
/// every request and answer gets through. Heal: <see cref="HealTraffic.All"/> to every member, the lab first. The work is one async pipeline
/// per request whose result is piped to the requester: no actor state is touched from it.
/// </summary>
public sealed class PartitionControl : ReceiveActor
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    private readonly IActorRef _status;
    private readonly IActorRef _events;

    public static Props Props(IActorRef status, IActorRef events) => Akka.Actor.Props.Create(() => new PartitionControl(status, events));

    public PartitionControl(IActorRef status, IActorRef events)
    {
        _status = status;
        _events = events;
        Receive<Partition>(OnPartition);
        Receive<Heal>(_ => OnHeal());
    }

    private void OnPartition(Partition partition)
    {
        var cluster = Cluster.Get(Context.System);
        var self = cluster.SelfAddress.ToString();
        var members = cluster.State.Members
            .Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp && !cluster.State.Unreachable.Contains(m))
            .Select(m => m.Address.ToString()).ToList();
        var (system, status, events) = (Context.System, _status, _events);
        Apply().PipeTo(Sender);

        async Task<object> Apply()
        {
            var snapshot = await status.Ask<StatusSnapshot>(GetStatus.Instance, AskTimeout);
            var nameOf = snapshot.Nodes.Where(n => n.Address.Length > 0).GroupBy(n => Key(n.Address)).ToDictionary(g => g.Key, g => g.First().Name);
            var addressOf = snapshot.Nodes.Where(n => n.Address.Length > 0).ToDictionary(n => n.Name, n => n.Address);
            // A list of names becomes a list of addresses; Jepsen's words pass through.
            var spec = string.Join(",", partition.Spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(item => addressOf.TryGetValue(item, out var address) ? members.FirstOrDefault(m => Key(m) == Key(address)) ?? address : item));
            PartitionPlan plan;
            try { plan = PartitionPlanner.Plan(spec, members, partition.OneWay, keepInMajority: [self], controller: self); }
            catch (ArgumentException ex) { return new FaultRefused(400, ex.Message); }

            var failed = (await ClusterLinkClient.ApplyAsync(system, plan, AskTimeout)).Where(r => !r.Ok).ToList();
            if (failed.Count > 0)
            {
                var reasons = string.Join("; ", failed.Select(f => $"{nameOf.GetValueOrDefault(Key(f.Node), f.Node)}: {f.Error}"));
                events.Tell(new RecordEvent("lab", "fault-refused", $"partition {partition.Spec}: {reasons}"));
                return new FaultRefused(500, $"partition {partition.Spec} failed on {reasons} (heal undoes what was applied)");
            }
            string Name(string address) => nameOf.GetValueOrDefault(Key(address), address);
            var text = $"partition {partition.Spec}{(partition.OneWay ? " (one-way)" : "")}: " +
                       (plan.Rest.Count == 0 ? string.Join(", ", plan.Selected.Select(Name)) + " in a ring of majorities"
                           : $"[{string.Join(", ", plan.Selected.Select(Name))}] {(partition.OneWay ? "unheard by" : "|")} [{string.Join(", ", plan.Rest.Select(Name))}]");
            events.Tell(new RecordEvent("lab", "fault-begun", text));
            return new FaultDone(text);
        }
    }

    private void OnHeal()
    {
        var cluster = Cluster.Get(Context.System);
        var self = cluster.SelfAddress.ToString();
        var others = cluster.State.Members.Select(m => m.Address.ToString()).Where(a => a != self);
        var (system, events) = (Context.System, _events);
        Apply().PipeTo(Sender);

        async Task<object> Apply()
        {
            var failed = (await ClusterLinkClient.HealAsync(system, others.Append(self), self, AskTimeout)).Where(r => !r.Ok).ToList();
            var text = failed.Count == 0 ? "healed every cluster link" : $"healed, except: {string.Join("; ", failed.Select(f => $"{f.Node}: {f.Error}"))}";
            events.Tell(new RecordEvent("lab", "fault-ended", text));
            return new FaultDone(text);
        }
    }

    private static string Key(string address)
    {
        try { var a = Address.Parse(address); return $"{a.Host}:{a.Port}"; }
        catch (UriFormatException) { return address; }
    }
}
