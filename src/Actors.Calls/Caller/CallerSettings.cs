using Actors.Net.Configuration;
using Actors.Net.Tcp;
using Akka.Configuration;

namespace Actors.Calls.Caller;

/// <param name="ListenPort">null: do not listen (never reachable); 0: any free port.</param>
/// <param name="Call">The peer to call once registered, if any.</param>
/// <param name="AudioFrames">Media payloads sent in turn (looping), from --wav; null: a generated tone of PayloadBytes.</param>
/// <param name="Duration">How long a call we place lasts before we hang up (null: until the peer hangs up or stdin says /hangup).</param>
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
    IReadOnlyList<byte[]>? AudioFrames = null)
{
    public TimeSpan FrameInterval => FrameIntervalOrNull ?? TimeSpan.FromMilliseconds(20);
    public TimeSpan ConnectTimeout => ConnectTimeoutOrNull ?? TimeSpan.FromSeconds(3);
    /// <summary>How long a call whose media path broke waits for a new path before it is given up.</summary>
    public TimeSpan ReconnectGrace => ReconnectGraceOrNull ?? TimeSpan.FromSeconds(15);

    public static CallerSettings Read(Config config)
    {
        var r = new SettingsReader(config, "actors.caller");
        string host; int port;
        try { (host, port) = Endpoints.ParseHostPort(r.String("rendezvous")); }
        catch (FormatException ex) { throw new SettingsException("actors.caller.rendezvous", ex.Message); }
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
            r.Duration("reconnect-grace", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)), AudioFrames: audio);
    }
}
