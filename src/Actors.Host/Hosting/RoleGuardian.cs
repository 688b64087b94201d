using Actors.Net.Supervision;
using Akka.Actor;
using Akka.Event;

namespace Actors.Host.Hosting;

/// <summary>
/// Parent of a role's root actor, in every role (cluster members, peer and caller alike), and
/// the end of the one failure policy (<see cref="FailurePolicy"/>): a failure that reaches it
/// (a <see cref="FatalRoleException"/> escalated from a listener or from storage, or anything the
/// role's root throws) or the root stopping means the process cannot do its job. Instead of
/// restarting it forever we print one line and end the process with exit code 1
/// (<see cref="RoleFailure"/>). Every other message is forwarded to the root, so the guardian can
/// stand in for it (Ask it for progress, tell it user input).
/// </summary>
public sealed class RoleGuardian : ReceiveActor
{
    public static Props Props(Props role, string name) => Akka.Actor.Props.Create(() => new RoleGuardian(role, name));

    public RoleGuardian(Props role, string name)
    {
        var child = Context.ActorOf(role, name);
        Context.Watch(child);
        Receive<Terminated>(_ => RoleFailure.Fail(Context.System, $"role '{name}' stopped"));
        ReceiveAny(message => child.Forward(message));
    }

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(0, -1, ex =>
    {
        if (FailurePolicy.Fatal(ex) is { } fatal)
        {
            RoleFailure.Fail(Context.System, fatal.Message);
        }
        else
        {
            // Not a failure we foresaw (a bug): the log keeps its type; the user still sees one line.
            var cause = ex is ActorInitializationException { InnerException: { } inner } ? inner : ex;
            Context.GetLogger().Error(cause, "Role failed");
            RoleFailure.Fail(Context.System, $"{cause.GetType().Name}: {cause.Message}");
        }
        return Directive.Stop;
    }, loggingEnabled: false);
}
