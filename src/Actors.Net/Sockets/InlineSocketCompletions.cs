using Akka.Configuration;

namespace Actors.Net.Sockets;

/// <summary>
/// Lets .NET run socket completions on its epoll thread instead of queueing each one to the thread
/// pool (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>), for a process whose socket
/// completions only tell an actor: Akka.IO's are a <c>Tell</c> to the connection actor, which is
/// scheduled on its dispatcher anyway, so the thread-pool hop was one more wake-up per socket event
/// and nothing else. Per role, from <c>actors.net.inline-socket-completions</c> (config/cluster.conf,
/// on for the relay: its small media frames are a socket event each; src/Actors.Calls/README.md).
/// <para>
/// The price: a completion that did real work would hold every socket of the process. So it is
/// only for roles whose sockets are Akka.IO's and Akka.Remote's; a role that awaits sockets in
/// async code (HttpClient, our load generator) keeps the default.
/// </para>
/// .NET reads the variable once, when the first socket operation starts its engine: <see cref="Apply"/>
/// must run before that, i.e. before the actor system starts.
/// </summary>
public static class InlineSocketCompletions
{
    public const string SettingPath = "actors.net.inline-socket-completions";
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Sets the variable when the setting is on; an explicit variable in the environment wins. True when completions run inline.</summary>
    public static bool Apply(Config config) =>
        Apply(config, Environment.GetEnvironmentVariable, Environment.SetEnvironmentVariable);

    /// <summary><see cref="Apply(Config)"/> over a given environment (tests must not change the test process's own).</summary>
    public static bool Apply(Config config, Func<string, string?> read, Action<string, string> write)
    {
        if (read(Variable) is { } explicitValue) return explicitValue == "1";
        if (!config.GetBoolean(SettingPath, false)) return false;
        write(Variable, "1");
        return true;
    }
}
