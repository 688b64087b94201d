using Actors.Net.Configuration;
using Actors.Net.Tcp;
using Akka.Configuration;

namespace Actors.Calls.Caller;

/// <param name="ListenPort">null: do not listen (never reachable); 0: any free port.</param>
/// <param name="Call">The peer to call once registered, if any.</param>
/// <param name="AudioFrames">Media payloads sent in turn (looping), from --wav; null: a generated tone of PayloadBytes.</param>
/// <param name="Duration">How long a call we place lasts before we hang up (null: until the peer hangs up or stdin says /hangup).</param>
/// <param name="HolePunch">Speak protocol version 2: answer the rendezvous's pings and punch through NATs when told to (the rendezvous connection is then bound with SO_REUSEPORT).</param>
/// <param name="MoreRendezvous">Further rendezvous nodes, tried in turn after RendezvousHost:RendezvousPort.</param>
public sealed record CallerSettings(
    string Id,
    string Secret,
    string RendezvousHost,
    int RendezvousPort,
    string ListenHost = "0.0.0.0",
    int? ListenPort = null,
    string? Call = null,
    bool AutoAnswer = false,
    TimeSpan? Duration = null,
    TimeSpan? FrameIntervalOrNull = null,
    TimeSpan? ConnectTimeoutOrNull = null,
    TimeSpan? ReconnectGraceOrNull = null,
    int PayloadBytes = 160,
    IReadOnlyList<byte[]>? AudioFrames = null,
    IReadOnlyList<(string Host, int Port)>? MoreRendezvous = null,
    TimeSpan? BackoffMinOrNull = null,
    TimeSpan? BackoffMaxOrNull = null,
    TimeSpan? RetryForOrNull = null,
    bool HolePunch = true)
{
    /// <summary>Every rendezvous address, in the order they are tried (round robin).</summary>
    public IReadOnlyList<(string Host, int Port)> Rendezvous => [(RendezvousHost, RendezvousPort), .. MoreRendezvous ?? []];
    /// <summary>First delay before reconnecting to a rendezvous after losing it; doubles (with jitter) up to BackoffMax.</summary>
    public TimeSpan BackoffMin => BackoffMinOrNull ?? TimeSpan.FromMilliseconds(200);
    public TimeSpan BackoffMax => BackoffMaxOrNull ?? TimeSpan.FromSeconds(5);
    /// <summary>How long a caller without a call keeps trying to get its rendezvous back before it gives up.</summary>
    public TimeSpan RetryFor => RetryForOrNull ?? TimeSpan.FromMinutes(2);

    public TimeSpan FrameInterval => FrameIntervalOrNull ?? TimeSpan.FromMilliseconds(20);
    public TimeSpan ConnectTimeout => ConnectTimeoutOrNull ?? TimeSpan.FromSeconds(3);
    /// <summary>How long a call whose media path broke waits for a new path before it is given up.</summary>
    public TimeSpan ReconnectGrace => ReconnectGraceOrNull ?? TimeSpan.FromSeconds(15);

    public static CallerSettings Read(Config config)
    {
        var r = new SettingsReader(config, "actors.caller");
        var rendezvous = ReadRendezvous(config);
        var (host, port) = rendezvous[0];
        var id = r.String("id");
        if (!Protocol.CallAuth.IsValidId(id)) throw new SettingsException("actors.caller.id", "letters, digits, . _ - only, at most 64");
        var listen = r.String("listen", allowEmpty: true);
        int? listenPort = null;
        if (!string.IsNullOrEmpty(listen) && listen != "off") listenPort = r.Port("listen");
        var call = r.String("call", allowEmpty: true);
        var duration = r.Duration("duration", TimeSpan.Zero, TimeSpan.FromDays(1));
        var frameInterval = r.Duration("frame-interval", TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        var wav = r.String("wav", allowEmpty: true);
        IReadOnlyList<byte[]>? audio = null;
        if (!string.IsNullOrEmpty(wav))
        {
            try { audio = WavAudio.Load(wav).Frames(frameInterval); }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                throw new SettingsException("actors.caller.wav", $"{wav}: {ex.Message}");
            }
            if (audio[0].Length > Protocol.FrameCodec.DefaultMaxFrame - 64)
                throw new SettingsException("actors.caller.wav", $"{wav}: {audio[0].Length}-byte frames do not fit a media frame");
        }
        return new CallerSettings(id, r.String("secret"), host, port, r.String("listen-host"), listenPort,
            string.IsNullOrEmpty(call) ? null : call, r.Bool("auto-answer"), duration == TimeSpan.Zero ? null : duration,
            frameInterval,
            r.Duration("connect-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1)),
            r.Duration("reconnect-grace", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)), AudioFrames: audio,
            MoreRendezvous: rendezvous.Skip(1).ToList(),
            BackoffMinOrNull: r.Duration("rendezvous-backoff-min", TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1)),
            BackoffMaxOrNull: r.Duration("rendezvous-backoff-max", TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10)),
            RetryForOrNull: r.Duration("rendezvous-retry-for", TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
            HolePunch: r.Bool("hole-punch"));
    }

    /// <summary>
    /// <c>actors.caller.rendezvous</c>: one "host:port" string, a list of them (what a repeated
    /// --rendezvous gives), or either with comma-separated addresses.
    /// </summary>
    private static List<(string Host, int Port)> ReadRendezvous(Config config)
    {
        const string key = "actors.caller.rendezvous";
        IEnumerable<string> items;
        try
        {
            var value = config.GetValue(key);
            items = value is null ? [] : value.IsArray() ? value.GetStringList() ?? [] : [value.GetString() ?? ""];
        }
        // Akka's HOCON reader throws various exceptions (even NullReferenceException on an empty list).
        catch (Exception ex) when (ex is not OutOfMemoryException) { items = []; }
        var result = new List<(string Host, int Port)>();
        foreach (var item in items.SelectMany(i => i.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            try { result.Add(Endpoints.ParseHostPort(item)); }
            catch (FormatException ex) { throw new SettingsException(key, ex.Message); }
        }
        if (result.Count == 0) throw new SettingsException(key, "no address given (HOST:PORT)");
        if (result.Count > 16) throw new SettingsException(key, $"{result.Count} addresses; at most 16");
        return result;
    }
}
