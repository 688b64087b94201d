using System.Diagnostics;
using System.Net;
using Actors.Calls.Protocol;
using Actors.Calls.Transport;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;

namespace Actors.Calls.Caller;

/// <summary>
/// One call, on one side. States: Signalling (ringing, waiting for a path) → Connecting (dialling
/// or awaiting the peer / relay, or punching: timed simultaneous dials from the rendezvous port) → InCall (20 ms media frames both ways, pings for RTT, text) →
/// Reconnecting (the path broke: ask the rendezvous for a new one, keep the clock running so the
/// gap counts as loss) → finished (one <see cref="CallSummary"/> to the agent).
/// </summary>
public sealed partial class CallSession : ReceiveActor, IWithTimers
{
    // Agent ↔ session.
    /// <summary>A path from the rendezvous; a hole punch comes with its <see cref="PunchPlan"/>.</summary>
    public sealed record PathInstruction(Connect Connect, PunchPlan? Punch = null);
    /// <summary>Dial from <paramref name="LocalPort"/> (the rendezvous connection's) after <paramref name="Delay"/>, at most <paramref name="Attempts"/> times, each bounded by <paramref name="AttemptTimeout"/>.</summary>
    public sealed record PunchPlan(int LocalPort, TimeSpan Delay, int Attempts, TimeSpan AttemptTimeout);
    /// <summary>The rendezvous offers a UDP media path: key and the peer's address; bind <paramref name="LocalPort"/> (the rendezvous connection's number).</summary>
    public sealed record UdpOffered(UdpOffer Offer, int LocalPort);
    public sealed record InboundJoined(IActorRef Connection, Join Join);
    public sealed record SignalEnded(CallOutcome Outcome, string Detail);
    public sealed record ExpectJoin(string Token, IActorRef Session);
    public sealed record SendSignal(CallMessage Message);
    public sealed record Finished(CallSummary Summary);
    public sealed record Say(string Text);
    public sealed class HangUpNow { public static readonly HangUpNow Instance = new(); private HangUpNow() { } }

    private sealed class MediaTick { public static readonly MediaTick Instance = new(); }
    private sealed class PingTick { public static readonly PingTick Instance = new(); }
    private sealed class DurationOver { public static readonly DurationOver Instance = new(); }
    private sealed class ConnectDeadline { public static readonly ConnectDeadline Instance = new(); }
    private sealed class ReconnectDeadline { public static readonly ReconnectDeadline Instance = new(); }
    private sealed class StopNow { public static readonly StopNow Instance = new(); }
    private sealed record PunchTick(int Path);

    private const int MediaHeaderBytes = FrameCodec.HeaderSize + 1 + 4 + 8 + 2;

    private readonly string _callId;
    private readonly string _peer;
    private readonly bool _isCaller;
    private readonly CallerSettings _settings;
    private readonly IActorRef _agent;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly byte[] _tone;
    private IActorRef _media = ActorRefs.Nobody;
    private Connect? _path;
    private int _attempt;
    private double? _setupMs;
    private int _pathChanges;
    private bool _finished;
    private bool _mediaFlowing; // Join/Joined done on the current connection
    private PunchPlan? _punch;  // the current path is a hole punch
    private long _punchStartedAt;
    private int _punchAttempts;  // attempts made (over the whole call): the report's punchAttempts
    private int _punchMade;      // attempts made on the current punch path

    // Media statistics.
    private uint _nextSeq;
    private long _framesSent, _framesReceived, _bytesSent, _bytesReceived;
    private long _firstSeq = -1, _maxSeq = -1;
    private double _jitterMicros;
    private long? _lastTransit;
    private double _rttSum;
    private int _rttCount, _textsReceived;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string callId, string peer, bool isCaller, CallerSettings settings, IActorRef agent) =>
        Akka.Actor.Props.Create(() => new CallSession(callId, peer, isCaller, settings, agent));

    public CallSession(string callId, string peer, bool isCaller, CallerSettings settings, IActorRef agent)
    {
        _callId = callId;
        _peer = peer;
        _isCaller = isCaller;
        _settings = settings;
        _agent = agent;
        _tone = Tone(settings.PayloadBytes);
        Signalling();
    }

    // ---- Signalling: waiting for a path instruction ------------------------------------------

    private void Signalling()
    {
        Receive<PathInstruction>(StartPath);
        Common();
    }

    private void StartPath(PathInstruction instruction)
    {
        var connect = instruction.Connect;
        _path = connect;
        _attempt++;
        _mediaFlowing = false;
        _punch = instruction.Punch;
        if (!_media.IsNobody()) { Context.Unwatch(_media); Context.Stop(_media); _media = ActorRefs.Nobody; }
        if (_punch is { } punch)
        {
            // Both sides dial each other at the same moment, from the port the rendezvous saw.
            _log.Info("Call {0}: hole punch to {1} from port {2} in {3} ms ({4} attempts of {5} ms)", _callId, $"{connect.Host}:{connect.Port}",
                punch.LocalPort, (int)punch.Delay.TotalMilliseconds, punch.Attempts, (int)punch.AttemptTimeout.TotalMilliseconds);
            _punchStartedAt = Stopwatch.GetTimestamp();
            _punchMade = 0;
            Timers.StartSingleTimer(ConnectDeadline.Instance, ConnectDeadline.Instance, punch.Delay + punch.AttemptTimeout * punch.Attempts + TimeSpan.FromSeconds(5));
            Timers.StartSingleTimer(new PunchTick(_attempt), new PunchTick(_attempt), punch.Delay);
            Become(Connecting);
            return;
        }
        Timers.StartSingleTimer(ConnectDeadline.Instance, ConnectDeadline.Instance, _settings.ConnectTimeout + TimeSpan.FromSeconds(5));
        if (connect.Role == PathRole.Dial)
        {
            EndPoint target = IPAddress.TryParse(connect.Host, out var ip) ? new IPEndPoint(ip, connect.Port) : new DnsEndPoint(connect.Host, connect.Port);
            _log.Info("Call {0}: {1} path, dialling {2}", _callId, connect.Path, Endpoints.Format(target));
            _media = Context.ActorOf(FrameConnection.Dial(target, new FrameConnectionSettings(ConnectTimeout: _settings.ConnectTimeout, IdleTimeout: TimeSpan.FromSeconds(10))), $"media-{_attempt}");
            Context.Watch(_media);
        }
        else
        {
            _log.Info("Call {0}: {1} path, waiting for {2} to connect", _callId, connect.Path, _peer);
            _agent.Tell(new ExpectJoin(connect.Token, Self));
        }
        Become(Connecting);
    }

    // ---- Connecting ---------------------------------------------------------------------------

    private void Connecting()
    {
        Receive<FrameConnection.Connected>(c => c.Connection.Equals(_media), _ =>
        {
            // On a punched connection both sides dialled: the caller's side sends Join, the callee's expects it.
            if (_path!.Role == PathRole.Dial) _media.Tell(new FrameConnection.Send(new Join(_callId, _path.Token, _settings.Id)));
        });
        Receive<FrameConnection.Received>(r => r.Connection.Equals(_media) && r.Message is Joined, _ => EnterCall());
        Receive<FrameConnection.Received>(r => r.Connection.Equals(_media) && r.Message is Join && _punch is not null && _path!.Role == PathRole.Await, r =>
        {
            if (((Join)r.Message).Token != _path!.Token) { PathFailed("punched connection presented a wrong token"); return; }
            _media.Tell(new FrameConnection.Send(new Joined(_callId)));
            EnterCall();
        });
        Receive<FrameConnection.Received>(r => r.Connection.Equals(_media) && r.Message is Refused, r =>
            PathFailed($"refused: {((Refused)r.Message).Reason}"));
        Receive<PunchTick>(t => t.Path == _attempt && _punch is not null, _ => PunchAttempt());
        Receive<FrameConnection.ConnectFailed>(f => f.Connection.Equals(_media) && _punch is not null, f => PunchAttemptFailed(f.Reason));
        Receive<FrameConnection.ConnectFailed>(f => f.Connection.Equals(_media), f => PathFailed(f.Reason));
        Receive<FrameConnection.Closed>(c => c.Connection.Equals(_media), c => PathFailed(c.Reason));
        Receive<InboundJoined>(joined =>
        {
            if (_path is null || joined.Join.Token != _path.Token) { joined.Connection.Tell(FrameConnection.Close.Instance); return; }
            _media = joined.Connection;
            Context.Watch(_media);
            _media.Tell(new FrameConnection.Send(new Joined(_callId)));
            EnterCall();
        });
        Receive<ConnectDeadline>(_ => PathFailed("the peer did not connect in time"));
        Receive<MediaTick>(_ => SendMedia()); // frames produced while there is no path are lost
        Common();
    }

    /// <summary>One simultaneous-open attempt: dial the peer's observed address from the shared port.</summary>
    private void PunchAttempt()
    {
        var punch = _punch!;
        if (!IPAddress.TryParse(_path!.Host, out var ip) || _path.Port == 0) { PathFailed($"hole punch to a bad address '{_path.Host}:{_path.Port}'"); return; }
        _punchAttempts++;
        _punchMade++;
        var target = new IPEndPoint(ip, _path.Port);
        _media = Context.ActorOf(FrameConnection.Dial(target, new FrameConnectionSettings(ConnectTimeout: punch.AttemptTimeout,
            IdleTimeout: TimeSpan.FromSeconds(10), LocalAddress: new IPEndPoint(IPAddress.IPv6Any, punch.LocalPort), ReusePort: true)),
            $"punch-{_attempt}-{_punchAttempts}");
        Context.Watch(_media);
    }

    /// <summary>
    /// An attempt got no connection: the next starts at its slot (start + delay + n · attempt
    /// timeout), the same moment on both sides; after the last, the path is lost (→ a relay).
    /// </summary>
    private void PunchAttemptFailed(string reason)
    {
        var punch = _punch!;
        Context.Unwatch(_media);
        _media = ActorRefs.Nobody;
        var made = _punchMade;
        _log.Info("Call {0}: hole punch attempt {1}/{2} failed ({3})", _callId, made, punch.Attempts, reason);
        if (made >= punch.Attempts) { PathFailed($"hole punch: no connection after {made} attempts"); return; }
        var slot = punch.Delay + punch.AttemptTimeout * made - Stopwatch.GetElapsedTime(_punchStartedAt);
        Timers.StartSingleTimer(new PunchTick(_attempt), new PunchTick(_attempt), slot > TimeSpan.Zero ? slot : TimeSpan.Zero);
    }

    private void PathFailed(string reason)
    {
        _log.Info("Call {0}: {1} path failed ({2}); asking for another", _callId, _path?.Path, reason);
        _mediaFlowing = false;
        if (!_media.IsNobody()) { Context.Unwatch(_media); Context.Stop(_media); _media = ActorRefs.Nobody; }
        _agent.Tell(new SendSignal(new PathLost(_callId, _path?.Token ?? "")));
        Timers.Cancel(ConnectDeadline.Instance);
        Timers.StartSingleTimer(ReconnectDeadline.Instance, ReconnectDeadline.Instance, _settings.ReconnectGrace);
        Become(Reconnecting);
    }

    private void EnterCall()
    {
        Timers.Cancel(ConnectDeadline.Instance);
        Timers.Cancel(ReconnectDeadline.Instance);
        if (_setupMs is null)
        {
            _setupMs = Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds;
            if (_isCaller && _settings.Duration is { } duration) Timers.StartSingleTimer(DurationOver.Instance, DurationOver.Instance, duration);
        }
        else _pathChanges++;
        _log.Info("Call {0} with {1}: media flowing on the {2} path", _callId, _peer, _path!.Path);
        Context.System.EventStream.Publish(new PathEstablished(_callId, _path.Path, _setupMs.Value));
        _mediaFlowing = true;
        Timers.StartPeriodicTimer(MediaTick.Instance, MediaTick.Instance, _settings.FrameInterval);
        Timers.StartPeriodicTimer(PingTick.Instance, PingTick.Instance, TimeSpan.FromMilliseconds(500));
        Become(InCall);
    }

    // ---- InCall -------------------------------------------------------------------------------

    private void InCall()
    {
        Receive<MediaTick>(_ => SendMedia());
        Receive<PingTick>(_ =>
        {
            _media.Tell(new FrameConnection.Send(new Ping(Stopwatch.GetTimestamp())));
        });
        Receive<FrameConnection.Received>(r => r.Connection.Equals(_media), r =>
        {
            switch (r.Message)
            {
                case Media media: OnMedia(media); break;
                case Ping ping: _media.Tell(new FrameConnection.Send(new Pong(ping.Nonce))); break;
                case Pong pong:
                    var rtt = Stopwatch.GetElapsedTime(pong.Nonce).TotalMilliseconds;
                    _rttSum += rtt;
                    _rttCount++;
                    Context.System.EventStream.Publish(new CallStats(_callId, _peer, _isCaller, _path!.Path, Round(rtt)!.Value,
                        _framesReceived < 2 ? null : Round(_jitterMicros / 1000), Math.Round(Loss(), 4)));
                    break;
                case Text text:
                    _textsReceived++;
                    Context.System.EventStream.Publish(new TextReceived(_callId, _peer, text.Body));
                    break;
                case Bye bye: Finish(CallOutcome.HungUp, $"{_peer} hung up ({bye.Reason})"); break;
            }
        });
        Receive<FrameConnection.Closed>(c => c.Connection.Equals(_media), c => PathFailed(c.Reason));
        Receive<Terminated>(t => t.ActorRef.Equals(_media), _ => PathFailed("media connection stopped"));
        Receive<Say>(say => _media.Tell(new FrameConnection.Send(new Text(say.Text))));
        Receive<DurationOver>(_ => HangUp("call duration reached"));
        Common();
    }

    private void Reconnecting()
    {
        Receive<PathInstruction>(StartPath);
        Receive<MediaTick>(_ => SendMedia());
        Receive<ReconnectDeadline>(_ => Finish(CallOutcome.Failed, "no new path after the old one broke"));
        Receive<DurationOver>(_ => HangUp("call duration reached"));
        Common();
    }

    private void SendMedia()
    {
        var seq = _nextSeq++;
        _framesSent++;
        var now = DateTime.UtcNow.Ticks / 10;
        var payload = _settings.AudioFrames is { } audio ? audio[(int)(seq % (uint)audio.Count)] : _tone;
        if (_udpUp)
        {
            // One frame out, one frame played out of the jitter buffer, per frame interval.
            _jitterBuffer.Pop();
            if (payload.Length <= UdpMediaCodec.MaxMediaPayload)
            {
                _udpFramesSent++;
                _bytesSent += UdpMediaCodec.HeaderSize + 12 + UdpMediaCodec.TagSize + payload.Length;
                _udp.Tell(new UdpMediaPath.SendMedia(seq, now, payload));
                return;
            }
        }
        // No path right now (or the new one is not joined yet: Join must be its first frame): this frame is lost.
        if (!_mediaFlowing) return;
        _tcpFramesSent++;
        _bytesSent += MediaHeaderBytes + payload.Length;
        _media.Tell(new FrameConnection.Send(new Media(seq, now, payload)));
    }

    private void OnMedia(Media media)
    {
        _framesReceived++;
        _tcpFramesReceived++;
        _bytesReceived += MediaHeaderBytes + media.Payload.Length;
        if (_firstSeq < 0) _firstSeq = media.Seq;
        if (media.Seq > _maxSeq) _maxSeq = media.Seq;
        // RFC 3550 interarrival jitter: only differences of transit times matter, so clock offset cancels.
        var transit = DateTime.UtcNow.Ticks / 10 - media.TimestampMicros;
        if (_lastTransit is { } last) _jitterMicros += (Math.Abs(transit - last) - _jitterMicros) / 16;
        _lastTransit = transit;
    }

    private double Loss()
    {
        var expected = _maxSeq < 0 ? 0 : _maxSeq - _firstSeq + 1;
        return expected == 0 ? 0 : Math.Max(0, 1 - (double)_framesReceived / expected);
    }

    private void HangUp(string reason)
    {
        if (!_media.IsNobody()) _media.Tell(new FrameConnection.Send(new Bye(reason)));
        _agent.Tell(new SendSignal(new Protocol.HangUp(_callId, reason)));
        Finish(CallOutcome.HungUp, reason);
    }

    // ---- Common ----------------------------------------------------------------------------

    private void Common()
    {
        Receive<SignalEnded>(ended => Finish(ended.Outcome, ended.Detail));
        Receive<HangUpNow>(_ => HangUp("hung up by the user"));
        Receive<PathInstruction>(StartPath);
        Receive<InboundJoined>(j => j.Connection.Tell(FrameConnection.Close.Instance));
        UdpPath();
        Receive<Say>(_ => { });
        ReceiveAny(_ => { });
    }

    private void Finish(CallOutcome outcome, string detail)
    {
        if (_finished) return;
        _finished = true;
        Timers.CancelAll();
        if (!_media.IsNobody()) _media.Tell(FrameConnection.Close.Instance);
        var loss = Loss();
        var summary = new CallSummary(_settings.Id, _peer, _callId, _isCaller ? "caller" : "callee",
            Result(outcome), detail, _setupMs is null ? null : _path?.Path.ToString().ToLowerInvariant(),
            Round(_setupMs), _rttCount == 0 ? null : Round(_rttSum / _rttCount), _tcpFramesReceived < 2 ? null : Round(_jitterMicros / 1000),
            Math.Round(loss, 4), _framesSent, _framesReceived, _bytesSent, _bytesReceived, _textsReceived, _pathChanges,
            Math.Round(Stopwatch.GetElapsedTime(_startedAt).TotalSeconds, 2), _punchAttempts == 0 ? null : _punchAttempts,
            _udpFramesSent == 0 ? "tcp" : _tcpFramesSent == 0 ? "udp" : "udp+tcp", UdpReport());
        // Report only once the Bye and the close have reached the socket (or after a second): the
        // report may be the last thing a process does, and the peer may have no other way to learn
        // of the hang-up (its rendezvous session can be gone while the call went on).
        if (_media.IsNobody()) { ReportAndStop(summary); return; }
        Become(() =>
        {
            Receive<FrameConnection.Closed>(c => c.Connection.Equals(_media), _ => ReportAndStop(summary));
            Receive<FrameConnection.ConnectFailed>(c => c.Connection.Equals(_media), _ => ReportAndStop(summary));
            Receive<Terminated>(t => t.ActorRef.Equals(_media), _ => ReportAndStop(summary));
            Receive<StopNow>(_ => ReportAndStop(summary));
            ReceiveAny(_ => { });
        });
        Timers.StartSingleTimer(StopNow.Instance, StopNow.Instance, TimeSpan.FromSeconds(1));
    }

    private void ReportAndStop(CallSummary summary)
    {
        _agent.Tell(new Finished(summary));
        Context.Stop(Self);
    }

    private static string Result(CallOutcome outcome) => outcome switch
    {
        CallOutcome.HungUp => "completed",
        CallOutcome.NoAnswer => "no-answer",
        CallOutcome.RateLimited => "rate-limited",
        _ => outcome.ToString().ToLowerInvariant(),
    };

    private static double? Round(double? value) => value is null ? null : Math.Round(value.Value, 3);

    /// <summary>20 ms of a 440 Hz tone, 8 kHz signed 8-bit PCM.</summary>
    private static byte[] Tone(int length)
    {
        var tone = new byte[length];
        for (var i = 0; i < length; i++) tone[i] = (byte)(sbyte)(100 * Math.Sin(2 * Math.PI * 440 * i / 8000.0));
        return tone;
    }
}
