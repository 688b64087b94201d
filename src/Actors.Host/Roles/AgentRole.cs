using Actors.Host.Cli;
using Actors.Lab.Processes;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors agent --manifests DIR</c>: a cluster member (role <c>agent</c>) that acts for the lab
/// on a machine the lab does not run on: it holds that machine's node manifests and kills,
/// pauses, restarts and makes leave the nodes started there (<see cref="MachineAgent"/>).
/// </summary>
public sealed class AgentRole : ClusterRoleCommand
{
    public override string Name => "agent";
    public override string Summary => "Act for the Lab on this machine: process faults (kill, pause, restart, leave) of the nodes started here.";

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--manifests", "actors.agent.manifests", "folder of this machine's node manifests (how each node was started)", "DIR"),
    ];

    protected override Action<ActorSystem> Prepare(Config config)
    {
        var manifests = new ManifestStore(new Actors.Net.Configuration.SettingsReader(config, "actors.agent").String("manifests"));
        return system => system.ActorOf(MachineAgent.Props(manifests), MachineAgent.ActorName);
    }
}
