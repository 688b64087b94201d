using Actors.Calls.Relay;
using Actors.Host.Cli;
using Actors.Host.Hosting;
using Akka.Actor;
using Akka.Configuration;

namespace Actors.Host.Roles;

/// <summary><c>actors relay</c>: carries the bytes of calls between two callers that cannot reach each other.</summary>
public sealed class RelayRole : ClusterRoleCommand
{
    public override string Name => "relay";
    protected override bool UsesDistributedData => true; // its load in the relay directory
    public override string Summary => "Relay calls between callers behind NATs (single-use tokens, back-pressure, quotas).";

    protected override IReadOnlyList<CliOption> RoleOptions =>
    [
        new("--port", "actors.relay.port", "port callers connect to (0 picks a free one)", "PORT"),
        new("--host", "actors.relay.host", "address to listen on", "ADDR"),
        new("--public-host", "actors.relay.public-host", "address callers dial (needed when --host is 0.0.0.0)", "ADDR"),
        new("--public-port", "actors.relay.public-port", "port callers dial, when a proxy stands in front (0: --port)", "PORT"),
        new("--max-sessions", "actors.relay.max-sessions", "relayed calls at once", "N"),
        new("--token-ttl", "actors.relay.token-ttl", "unused session tokens expire after", "DURATION"),
        new("--idle-timeout", "actors.relay.idle-timeout", "close a session silent for", "DURATION"),
        new("--max-bytes", "actors.relay.max-bytes", "bytes per session and direction", "SIZE"),
        new("--max-duration", "actors.relay.max-duration", "longest session", "DURATION"),
    ];

    protected override Action<ActorSystem> Prepare(Config config)
    {
        var settings = RelaySettings.Read(config);
        return system => system.ActorOf(RoleGuardian.Props(RelayServer.Props(settings), "server"), "relay");
    }
}
