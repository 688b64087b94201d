using Akka.Actor;
using Akka.Event;

namespace Actors.Host.Hosting;

/// <summary>
/// Parent of a role's root actor. When the role fails (e.g. its port is taken) the node cannot do
/// its job, so instead of restarting it forever we log one clear line and shut the node down
/// with a non-zero exit code.
/// </summary>
public sealed class RoleGuardian : ReceiveActor
{
    public sealed class RoleFailed(string message) : CoordinatedShutdown.Reason
    {
        public string Message { get; } = message;
        public override int ExitCode => 1;
        public override string ToString() => Message;
    }

    public static Props Props(Props role, string name) => Akka.Actor.Props.Create(() => new RoleGuardian(role, name));

    public RoleGuardian(Props role, string name)
    {
        var child = Context.ActorOf(role, name);
        Context.Watch(child);
        Receive<Terminated>(_ => CoordinatedShutdown.Get(Context.System).Run(new RoleFailed($"role '{name}' stopped")));
        ReceiveAny(message => child.Forward(message));
    }

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(0, -1, ex =>
    {
        Context.GetLogger().Error("{0}", ex.InnerException?.Message ?? ex.Message);
        CoordinatedShutdown.Get(Context.System).Run(new RoleFailed(ex.InnerException?.Message ?? ex.Message));
        return Directive.Stop;
    }, loggingEnabled: false);
}
