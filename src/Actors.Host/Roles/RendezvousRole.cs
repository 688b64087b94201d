using Actors.Calls.Rendezvous;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary><c>actors rendezvous</c>: registers callers, probes their reachability, connects calls.</summary>
public sealed class RendezvousRole : ClusterRoleCommand
{
    public override string Name => "rendezvous";
    protected override bool UsesDistributedData => true; // call presence and the relay directory
    public override string Summary => "Register callers (HMAC challenge-response), probe reachability, and connect calls directly, in reverse, or through a relay.";

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--port", "actors.rendezvous.port", "port callers connect to (0 picks a free one)", "PORT"),
        new("--host", "actors.rendezvous.host", "address to listen on", "ADDR"),
        new("--users", "actors.rendezvous.users-file", "file of name:secret lines: who may register", "FILE"),
        new("--probe-timeout", "actors.rendezvous.probe-timeout", "time to dial a caller back", "DURATION"),
        new("--ring-timeout", "actors.rendezvous.ring-timeout", "unanswered calls end after", "DURATION"),
    ];

    protected override Action<ActorSystem> Prepare(Config config)
    {
        var settings = RendezvousSettings.Read(config);
        return system => system.ActorOf(RoleGuardian.Props(RendezvousServer.Props(settings), "server"), "rendezvous");
    }
}
