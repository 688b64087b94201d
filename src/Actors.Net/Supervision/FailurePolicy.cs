using Akka.Actor;

namespace Actors.Net.Supervision;

/// <summary>
/// A failure the role cannot recover from by restarting the actor that hit it: its port is
/// taken, its storage cannot be read or written. The message is the one line the user sees, so
/// it names the port or file and the cause.
/// </summary>
public class FatalRoleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The one failure policy of every role. An actor that hits a failure its role cannot survive
/// throws a <see cref="FatalRoleException"/>; every actor between it and the role's root uses
/// <see cref="Strategy"/>, which escalates it; the host's guardian above the role's root prints
/// the message as one line on stderr and ends the process with exit code 1 (see
/// src/Actors.Host/Hosting/RoleGuardian.cs). Any other failure gets the parent's own directive
/// (restart a stateless worker, stop a connection actor).
/// </summary>
public static class FailurePolicy
{
    /// <param name="otherwise">The directive for failures that are not fatal (default: restart, Akka's own default).</param>
    public static SupervisorStrategy Strategy(Func<Exception, Directive>? otherwise = null) =>
        new OneForOneStrategy(ex => Fatal(ex) is not null ? Directive.Escalate : otherwise?.Invoke(ex) ?? DefaultDecision(ex));

    /// <summary>The fatal failure inside <paramref name="ex"/> (Akka wraps a failing PreStart in an <see cref="ActorInitializationException"/>), or null.</summary>
    public static FatalRoleException? Fatal(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is FatalRoleException fatal) return fatal;
        return null;
    }

    // Akka's default: a child that cannot even start, or was killed, is stopped; anything else restarts.
    private static Directive DefaultDecision(Exception ex) => ex switch
    {
        ActorInitializationException or ActorKilledException or DeathPactException => Directive.Stop,
        _ => Directive.Restart,
    };
}
