using System.Diagnostics;
using System.Net;
using Actors.Calls.Protocol;
using Actors.Calls.Transport;
using Actors.Net.Udp;
using Akka.Actor;
using Akka.Event;

namespace Actors.Calls.Caller;

/// <summary>
/// The call's UDP media path (version 2): the rendezvous offers a key and the peer's address, a
/// child <see cref="UdpMediaPath"/> punches and authenticates the datagrams, and while it is up
/// media goes over UDP through a jitter buffer (TCP otherwise); its RTT, jitter, loss and
/// concealment counters make the report's <c>udp</c> section.
/// </summary>
public sealed partial class CallSession
{
    // UDP media path (version 2): media goes over UDP while it is up, over the TCP path otherwise.
    private IActorRef _udp = ActorRefs.Nobody;
    private bool _udpOffered, _udpUp, _udpEverUp;
    private string? _udpNote;
    private readonly JitterBuffer _jitterBuffer = new(depth: 3, capacity: 64);
    private long _udpFramesSent, _tcpFramesSent, _udpFramesReceived, _tcpFramesReceived, _udpFirstSeq = -1, _udpMaxSeq = -1;
    private double _udpJitterMicros, _udpRttSum;
    private long? _udpLastTransit;
    private int _udpRttCount;
    private UdpMediaPath.Counters _udpCounters = new(0, 0, 0, 0);

    /// <summary>The UDP path's messages, in every state (registered from <see cref="Common"/>).</summary>
    private void UdpPath()
    {
        Receive<UdpOffered>(OnUdpOffered);
        Receive<UdpMediaPath.Up>(_ => { _udpUp = true; _udpEverUp = true; _udpNote = null; });
        Receive<UdpMediaPath.Down>(down => { _udpUp = false; _udpNote = down.Reason; _log.Info("Call {0}: UDP media path down ({1}); media over TCP", _callId, down.Reason); });
        Receive<UdpMediaPath.Unavailable>(u => { _udpUp = false; _udpNote = u.Reason; _log.Info("Call {0}: no UDP media path ({1})", _callId, u.Reason); });
        Receive<UdpMediaPath.MediaReceived>(OnUdpMedia);
        Receive<UdpMediaPath.PongReceived>(pong =>
        {
            _udpRttSum += Stopwatch.GetElapsedTime(pong.Nonce).TotalMilliseconds;
            _udpRttCount++;
        });
        Receive<UdpMediaPath.Counters>(c => _udpCounters = c);
        Receive<Terminated>(t => t.ActorRef.Equals(_udp), _ => { _udpUp = false; _udp = ActorRefs.Nobody; });
    }

    private void OnUdpMedia(UdpMediaPath.MediaReceived media)
    {
        _framesReceived++;
        _udpFramesReceived++;
        _bytesReceived += UdpMediaCodec.HeaderSize + 12 + UdpMediaCodec.TagSize + media.Payload.Length;
        if (_firstSeq < 0) _firstSeq = media.Seq;
        if (media.Seq > _maxSeq) _maxSeq = media.Seq;
        if (_udpFirstSeq < 0) _udpFirstSeq = media.Seq;
        if (media.Seq > _udpMaxSeq) _udpMaxSeq = media.Seq;
        var transit = DateTime.UtcNow.Ticks / 10 - media.TimestampMicros;
        if (_udpLastTransit is { } last) _udpJitterMicros += (Math.Abs(transit - last) - _udpJitterMicros) / 16;
        _udpLastTransit = transit;
        _jitterBuffer.Push(media.Seq, media.Payload);
    }

    private void OnUdpOffered(UdpOffered offered)
    {
        if (_udpOffered || _finished) return;
        _udpOffered = true;
        if (!IPAddress.TryParse(offered.Offer.Host, out var ip) || offered.Offer.Port == 0 || offered.LocalPort == 0 || offered.Offer.Key.Length != UdpMediaCodec.KeySize)
        {
            _udpNote = $"unusable UDP offer ({offered.Offer.Host}:{offered.Offer.Port}, local port {offered.LocalPort})";
            return;
        }
        _log.Info("Call {0}: probing a UDP media path to {1} from port {2}", _callId, $"{ip}:{offered.Offer.Port}", offered.LocalPort);
        DatagramMailbox.Ensure(Context.System);
        _udp = Context.ActorOf(UdpMediaPath.Props(offered.Offer.Key, offered.Offer.Sender, new IPEndPoint(ip, offered.Offer.Port), offered.LocalPort), "udp");
        Context.Watch(_udp);
    }

    private UdpSummary? UdpReport()
    {
        if (!_udpOffered) return null;
        var expected = _udpMaxSeq < 0 ? 0 : _udpMaxSeq - _udpFirstSeq + 1;
        var loss = expected == 0 ? 0 : Math.Max(0, 1 - (double)_udpFramesReceived / expected);
        return new UdpSummary(_udpEverUp, _udpNote, _udpRttCount == 0 ? null : Round(_udpRttSum / _udpRttCount),
            _udpFramesReceived < 2 ? null : Round(_udpJitterMicros / 1000), Math.Round(loss, 4), _udpFramesSent, _udpFramesReceived,
            _jitterBuffer.Played, _jitterBuffer.Concealed, _jitterBuffer.Late, _udpCounters.Rejected, _udpCounters.Replayed,
            _udpCounters.Overflowed);
    }
}
