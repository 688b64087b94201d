using Actors.Lab.Agent;
using Actors.Lab.Events;
using Akka.Actor;
using Akka.Cluster;

namespace Actors.Lab.Processes;

/// <summary>
/// The process fault plane on a machine the lab does not run on (<c>/user/machine-agent</c>, in an
/// <c>actors agent --manifests DIR</c> node there): it holds that machine's manifests and applies
/// the lab's <see cref="MachineFault"/>s to the nodes they name, with a <see cref="ProcessFaults"/>
/// of its own (kill, pause, restart from the manifest's command line, leave). Only the machine
/// that started a process can signal or restart it. Its fault events go to the labs of the
/// cluster as <see cref="NodeEvent"/>s, named after the node faulted.
/// </summary>
public sealed class MachineAgent : ReceiveActor
{
    public const string ActorName = "machine-agent";
    public const string Role = "agent";
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(8);

    private readonly IActorRef _faults;

    public static Props Props(ManifestStore manifests) => Akka.Actor.Props.Create(() => new MachineAgent(manifests));

    public MachineAgent(ManifestStore manifests)
    {
        var events = Context.ActorOf(Akka.Actor.Props.Create(() => new EventsToLabs()), "events");
        _faults = Context.ActorOf(ProcessFaults.Props(manifests, events), "process-faults");
        Receive<MachineFault>(OnFault);
    }

    private void OnFault(MachineFault fault)
    {
        object? command = fault.Action switch
        {
            "kill" => new KillNode(fault.Name, fault.Signal),
            "restart" => new RestartNode(fault.Name),
            "leave" => new LeaveNode(fault.Name),
            _ => null,
        };
        if (command is null) { Sender.Tell(new MachineFaultAnswer(400, $"unknown action '{fault.Action}'")); return; }
        _faults.Ask<object>(command, AskTimeout).PipeTo(Sender,
            success: answer => answer switch
            {
                FaultDone done => new MachineFaultAnswer(200, done.Text),
                FaultRefused refused => new MachineFaultAnswer(refused.Status, refused.Reason),
                _ => new MachineFaultAnswer(500, "unexpected answer"),
            },
            failure: ex => new MachineFaultAnswer(503, ex.Message));
    }

    /// <summary>Forwards the fault plane's events to every lab member (they are the lab's event log's).</summary>
    private sealed class EventsToLabs : ReceiveActor
    {
        private readonly HashSet<Address> _labs = [];
        private readonly Cluster _cluster = Cluster.Get(Context.System);

        public EventsToLabs()
        {
            Receive<ClusterEvent.MemberUp>(up => { if (up.Member.HasRole("lab")) _labs.Add(up.Member.Address); });
            Receive<ClusterEvent.MemberRemoved>(removed => _labs.Remove(removed.Member.Address));
            Receive<ClusterEvent.IMemberEvent>(_ => { });
            Receive<RecordEvent>(e =>
            {
                var message = new NodeEvent(e.Node, e.Kind, e.Text, e.UnixMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                foreach (var lab in _labs) Context.ActorSelection(lab + LabPaths.Status).Tell(message);
            });
        }

        protected override void PreStart() =>
            _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

        protected override void PostStop() => _cluster.Unsubscribe(Self);
    }
}
