using Actors.Host.Cli;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary>
/// <c>actors seed</c>: a cluster member with no work of its own, a stable contact point that
/// other nodes name with --seed (it is what run-cluster starts first).
/// </summary>
public sealed class SeedRole : ClusterRoleCommand
{
    public override string Name => "seed";
    public override string Summary => "Run a cluster member that only serves as a seed (contact point) for other nodes.";
    protected override IReadOnlyList<CliOption> RoleOptions => [];
    protected override Action<ActorSystem> Prepare(Config config) => _ => { };
}
