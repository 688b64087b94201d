using Akka.Actor;
using Akka.Cluster;

namespace Actors.Lab.Processes;

/// <summary>
/// Where the lab's API sends process faults (<c>faults</c>): a node whose manifest is in the lab's
/// own folder (started on the lab's machine) goes to the local <see cref="ProcessFaults"/>; any
/// other is asked of every machine agent of the cluster (members with role <c>agent</c>), and the
/// one whose machine started it applies it. Answers are piped back (no state here).
/// </summary>
public sealed class FaultRouter : ReceiveActor
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(8);

    private readonly ManifestStore _manifests;
    private readonly IActorRef _local;
    private readonly Cluster _cluster = Cluster.Get(Context.System);

    public static Props Props(ManifestStore manifests, IActorRef local) => Akka.Actor.Props.Create(() => new FaultRouter(manifests, local));

    public FaultRouter(ManifestStore manifests, IActorRef local)
    {
        _manifests = manifests;
        _local = local;
        Receive<KillNode>(k => Route(k.Name, k, new MachineFault("kill", k.Name, k.Signal)));
        Receive<RestartNode>(r => Route(r.Name, r, new MachineFault("restart", r.Name, "")));
        Receive<LeaveNode>(l => Route(l.Name, l, new MachineFault("leave", l.Name, "")));
    }

    private void Route(string name, object command, MachineFault remote)
    {
        var agents = _cluster.State.Members.Where(m => m.Status == MemberStatus.Up && m.HasRole(MachineAgent.Role)).Select(m => m.Address).ToList();
        if (_manifests.Find(name) is not null || agents.Count == 0)
        {
            _local.Forward(command); // ours, or nobody else's to ask: the local answer (404 when unknown)
            return;
        }
        AskAgents(agents, remote, _manifests.Directory).PipeTo(Sender);
    }

    private async Task<object> AskAgents(IReadOnlyList<Address> agents, MachineFault fault, string localDirectory)
    {
        var answers = await Task.WhenAll(agents.Select(async agent =>
        {
            try { return await Context.System.ActorSelection(agent + "/user/" + MachineAgent.ActorName).Ask<MachineFaultAnswer>(fault, AskTimeout); }
            catch (Exception ex) when (ex is AskTimeoutException or ActorNotFoundException) { return new MachineFaultAnswer(503, $"the agent at {agent} did not answer"); }
        }));
        if (answers.FirstOrDefault(a => a.Status == 200) is { } done) return new FaultDone(done.Text);
        if (answers.FirstOrDefault(a => a.Status != 404) is { } refused) return new FaultRefused(refused.Status, refused.Text);
        return new FaultRefused(404, $"no node named '{fault.Name}' in {localDirectory} nor on the {agents.Count} machine agent(s)");
    }
}
