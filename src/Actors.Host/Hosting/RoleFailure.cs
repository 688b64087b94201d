using Akka.Actor;

namespace Actors.Host.Hosting;

/// <summary>
/// How a role ends when it cannot do its job, the same for every role: one line on stderr,
/// <c>actors ROLE: what failed</c> (naming the port or file), printed once, then a coordinated
/// shutdown whose reason makes the process exit 1. No stack trace, no restart loop.
/// </summary>
public static class RoleFailure
{
    /// <summary>The <see cref="CoordinatedShutdown"/> reason of a failed role; its exit code is 1.</summary>
    public sealed class RoleFailed(string message) : CoordinatedShutdown.Reason
    {
        public string Message { get; } = message;
        public override int ExitCode => 1;
        public override string ToString() => Message;
    }

    private static int _reported;

    /// <summary>The command whose role runs in this process ("web", "peer"); set by Program.</summary>
    public static string Command { get; set; } = "role";

    /// <summary>Prints the failure line, once per process (the first failure is the cause; the rest are consequences).</summary>
    public static void Report(string message)
    {
        if (Interlocked.Exchange(ref _reported, 1) != 0) return;
        Console.Error.WriteLine($"actors {Command}: {message}");
        Console.Error.Flush();
    }

    /// <summary>Reports <paramref name="message"/> and shuts the node down with exit code 1.</summary>
    public static void Fail(ActorSystem system, string message)
    {
        Report(message);
        CoordinatedShutdown.Get(system).Run(new RoleFailed(message));
    }

    /// <summary>1 when the system was shut down because its role failed, else 0.</summary>
    public static int ExitCode(ActorSystem system) =>
        CoordinatedShutdown.Get(system).ShutdownReason is RoleFailed ? 1 : 0;
}
