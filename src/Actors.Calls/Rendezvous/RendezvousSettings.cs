using Actors.Calls.Protocol;
using Actors.Net.Configuration;
using Akka.Configuration;

namespace Actors.Calls.Rendezvous;

public sealed record RendezvousSettings(
    string Host,
    int Port,
    UserDirectory Users,
    int MaxConnections = 10_000,
    TimeSpan? RegisterTimeoutOrNull = null,
    TimeSpan? IdleTimeoutOrNull = null,
    TimeSpan? ProbeTimeoutOrNull = null,
    TimeSpan? RingTimeoutOrNull = null,
    TimeSpan? AllocateTimeoutOrNull = null,
    int CallBurst = 5,
    TimeSpan? CallRefillOrNull = null,
    bool HolePunch = true,
    int PunchAttempts = 3,
    TimeSpan? PunchAttemptTimeoutOrNull = null)
{
    /// <summary>How long one hole-punch attempt (a simultaneous connect) may take before the next; after PunchAttempts, the relay.</summary>
    public TimeSpan PunchAttemptTimeout => PunchAttemptTimeoutOrNull ?? TimeSpan.FromMilliseconds(1200);
    /// <summary>Time from accept to a successful registration.</summary>
    public TimeSpan RegisterTimeout => RegisterTimeoutOrNull ?? TimeSpan.FromSeconds(10);
    /// <summary>A registered connection that sends nothing (callers ping every 10 s) is closed after this.</summary>
    public TimeSpan IdleTimeout => IdleTimeoutOrNull ?? TimeSpan.FromSeconds(45);
    public TimeSpan ProbeTimeout => ProbeTimeoutOrNull ?? TimeSpan.FromSeconds(3);
    public TimeSpan RingTimeout => RingTimeoutOrNull ?? TimeSpan.FromSeconds(30);
    public TimeSpan AllocateTimeout => AllocateTimeoutOrNull ?? TimeSpan.FromSeconds(3);
    /// <summary>One more call may be placed every CallRefill, up to CallBurst at once (token bucket).</summary>
    public TimeSpan CallRefill => CallRefillOrNull ?? TimeSpan.FromSeconds(2);

    /// <summary>Reads <c>actors.rendezvous</c>; the users come from <c>users-file</c> and/or the <c>users</c> list of "name:secret".</summary>
    public static RendezvousSettings Read(Config config)
    {
        var r = new SettingsReader(config, "actors.rendezvous");
        var lines = new List<string>(r.StringList("users"));
        var file = r.String("users-file", allowEmpty: true);
        if (!string.IsNullOrEmpty(file))
        {
            if (!File.Exists(file)) throw new SettingsException("actors.rendezvous.users-file", $"\"{file}\" does not exist");
            lines.AddRange(File.ReadAllLines(file));
        }
        UserDirectory users;
        try { users = UserDirectory.Parse(lines, string.IsNullOrEmpty(file) ? "actors.rendezvous.users" : file); }
        catch (FormatException ex) { throw new SettingsException("actors.rendezvous.users-file", ex.Message); }
        if (users.Secrets.Count == 0) throw new SettingsException("actors.rendezvous.users-file", "no users: give --users FILE (one name:secret a line)");
        var max = TimeSpan.FromHours(1);
        return new RendezvousSettings(
            r.String("host"), r.Port("port"), users,
            r.Int("max-connections", 1, 1_000_000),
            r.Duration("register-timeout", TimeSpan.FromMilliseconds(100), max),
            r.Duration("idle-timeout", TimeSpan.FromSeconds(1), max),
            r.Duration("probe-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1)),
            r.Duration("ring-timeout", TimeSpan.FromMilliseconds(100), max),
            r.Duration("allocate-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1)),
            r.Int("call-burst", 1, 10_000),
            r.Duration("call-refill", TimeSpan.FromMilliseconds(1), max),
            r.Bool("hole-punch"),
            r.Int("punch-attempts", 1, 10),
            r.Duration("punch-attempt-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30)));
    }
}
