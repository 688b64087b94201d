using Actors.Net.Configuration;
using Akka.Configuration;

namespace Actors.Calls.Relay;

public sealed record RelaySettings(
    string Host,
    int Port,
    string PublicHost,
    int MaxSessions = 100,
    TimeSpan? TokenTtlOrNull = null,
    long MaxBytesPerDirection = 1L << 30,
    TimeSpan? MaxDurationOrNull = null,
    TimeSpan? IdleTimeoutOrNull = null,
    TimeSpan? JoinTimeoutOrNull = null)
{
    /// <summary>An allocated session whose two sides have not both joined by then is forgotten (tokens expire).</summary>
    public TimeSpan TokenTtl => TokenTtlOrNull ?? TimeSpan.FromSeconds(30);
    public TimeSpan MaxDuration => MaxDurationOrNull ?? TimeSpan.FromHours(1);
    /// <summary>A paired session that carries no byte either way for this long is closed.</summary>
    public TimeSpan IdleTimeout => IdleTimeoutOrNull ?? TimeSpan.FromSeconds(30);
    /// <summary>A connection must present its token this soon after connecting.</summary>
    public TimeSpan JoinTimeout => JoinTimeoutOrNull ?? TimeSpan.FromSeconds(10);
    /// <summary>The port callers dial, when it is not the one the relay listens on (a proxy or a port forward in front); 0: the listening port.</summary>
    public int PublicPort { get; init; }

    public static RelaySettings Read(Config config)
    {
        var r = new SettingsReader(config, "actors.relay");
        var host = r.String("host");
        var publicHost = r.String("public-host", allowEmpty: true);
        if (string.IsNullOrEmpty(publicHost))
        {
            if (host is "0.0.0.0" or "::")
                throw new SettingsException("actors.relay.public-host", "set the address callers dial (the relay listens on every interface)");
            publicHost = host;
        }
        var max = TimeSpan.FromDays(1);
        return new RelaySettings(host, r.Port("port"), publicHost,
            r.Int("max-sessions", 1, 1_000_000),
            r.Duration("token-ttl", TimeSpan.FromMilliseconds(100), max),
            r.Bytes("max-bytes", 1, long.MaxValue),
            r.Duration("max-duration", TimeSpan.FromSeconds(1), max),
            r.Duration("idle-timeout", TimeSpan.FromMilliseconds(100), max),
            r.Duration("join-timeout", TimeSpan.FromMilliseconds(100), max))
        {
            PublicPort = config.HasPath("actors.relay.public-port") ? r.Port("public-port") : 0,
        };
    }
}
