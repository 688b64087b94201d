using System.Net;
using System.Net.Sockets;
using Actors.Net.Logging;
using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Actors.Net.Udp;
using Actors.Torrent.Telemetry;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using static Actors.Torrent.Tracker.SwarmRegistryProtocol;
using static Actors.Torrent.Tracker.Udp.UdpTrackerProtocol;

namespace Actors.Torrent.Tracker.Udp;

/// <summary>
/// The BEP 15 edge of the tracker (<c>tracker-node/udp</c>): one actor owns the UDP socket
/// (Akka.IO <c>Udp.Bind</c>), reads each datagram with <see cref="UdpTrackerPackets"/>, answers
/// connects itself and asks the same <see cref="SwarmRegistry"/> as the HTTP edge for announces and
/// scrapes — so both protocols see the same swarms, replicated the same way. The registry's answer
/// carries back where to send the reply (the correlation), so nothing is kept per request.
/// </summary>
/// <remarks>
/// Defences: connection ids are keyed hashes (<see cref="UdpConnectionIds"/>); anything but a
/// connect needs a valid one, and a request without one gets at most an error no bigger than
/// itself, so a forged source cannot be used to amplify; datagrams that are not BEP 15 get no
/// answer (counted); answers never exceed 1200 bytes; at most <c>max-pending-announces</c>
/// requests wait for the registry, at most <c>max-queued-datagrams</c> datagrams for this actor
/// (<see cref="DatagramMailbox"/>: a flood beyond that is dropped and counted, as a full socket
/// buffer would).
/// </remarks>
public sealed class UdpTracker : ReceiveActor, IWithStash
{
    /// <summary>A taken UDP port is fatal for the role, like a taken HTTP port (<see cref="FailurePolicy"/>).</summary>
    public sealed class BindFailedException(string message) : FatalRoleException(message);

    /// <summary>On <see cref="DatagramMailbox"/> (at most <c>max-queued-datagrams</c> waiting): call <see cref="DatagramMailbox.Ensure"/> first.</summary>
    public static Props Props(TrackerSettings settings, IActorRef registry, IPEndPoint bindTo, UdpConnectionIds? ids = null) =>
        DatagramMailbox.Select(Akka.Actor.Props.Create(() =>
            new UdpTracker(settings, registry, bindTo, ids ?? UdpConnectionIds.Random(UdpConnectionIds.DefaultWindow))));

    private const string ConnectionIdProblem = "unknown or expired connection id";
    private const string BusyProblem = "tracker busy, retry later";

    private readonly TrackerSettings _settings;
    private readonly IActorRef _registry;
    private readonly IPEndPoint _bindTo;
    private readonly UdpConnectionIds _ids;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LogEvery _dropLog = new(TimeSpan.FromSeconds(10));
    private readonly DatagramQueue? _queue = DatagramMailbox.QueueOf(Context); // counts what a flood made it drop
    private IActorRef _socket = ActorRefs.Nobody;
    private int _waiting;
    private long _received, _dropped, _badIds, _connects, _announces, _scrapes, _errors, _busy, _sendFailures;

    public IStash Stash { get; set; } = null!;

    public UdpTracker(TrackerSettings settings, IActorRef registry, IPEndPoint bindTo, UdpConnectionIds ids)
    {
        _settings = settings;
        _registry = registry;
        _bindTo = bindTo;
        _ids = ids;
        Binding();
    }

    /// <summary>
    /// Akka.IO reads each datagram into one buffer of its pool's <c>buffer-size</c> (512 bytes by
    /// default) and cuts anything longer, so a 74-hash scrape (1496 bytes) would arrive cut. The
    /// tracker's config raises it (config/tracker.conf); tests put this in their HOCON.
    /// </summary>
    public const string Hocon = "akka.io.udp.disabled-buffer-pool.buffer-size = 2048\nakka.io.udp.direct-buffer-pool.buffer-size = 2048";

    protected override void PreStart()
    {
        var config = Context.System.Settings.Config;
        var pool = config.GetString("akka.io.udp.buffer-pool", "akka.io.udp.disabled-buffer-pool");
        var bufferSize = config.GetInt(pool + ".buffer-size", 512);
        if (bufferSize <= UdpTrackerPackets.MaxRequestLength)
            throw new FatalRoleException($"{pool}.buffer-size is {bufferSize} bytes: UDP tracker requests of up to " +
                $"{UdpTrackerPackets.MaxRequestLength} bytes would be cut; set it to 2048 (config/tracker.conf does)");
        var options = new List<Inet.SocketOption> { new Inet.SO.ReceiveBufferSize(1 << 20) };
        // "::" serves IPv4 clients too (they appear as ::ffff:a.b.c.d and get IPv4 answers).
        if (_bindTo.Address.Equals(IPAddress.IPv6Any)) options.Add(new DualMode());
        Context.System.Udp().Tell(new Akka.IO.Udp.Bind(Self, _bindTo, options));
    }

    protected override void PostStop()
    {
        if (!_socket.IsNobody()) _socket.Tell(Akka.IO.Udp.Unbind.Instance);
    }

    private void Binding()
    {
        Receive<Akka.IO.Udp.Bound>(bound =>
        {
            _socket = Sender;
            var local = (IPEndPoint)bound.LocalAddress;
            _log.Info("UDP tracker (BEP 15) listening on {0}", Endpoints.Format(local));
            Become(() => Ready(local));
            Stash.UnstashAll();
        });
        // Akka.IO's UDP CommandFailed carries no cause (the listener logs it): name the likely ones.
        Receive<Akka.IO.Udp.CommandFailed>(_ => throw new BindFailedException(
            $"cannot listen for UDP on {Endpoints.Format(_bindTo)} (port taken, or not a local address); --udp-port moves it, 0 turns it off"));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready(IPEndPoint local)
    {
        Receive<Akka.IO.Udp.Received>(OnDatagram);
        Receive<Announced>(OnAnnounced);
        Receive<AnnounceFailed>(OnAnnounceFailed);
        Receive<Scraped>(OnScraped);
        Receive<Akka.IO.Udp.CommandFailed>(_ => _sendFailures++); // a send the socket could not take: the client retries
        Receive<GetUdpListening>(_ => Sender.Tell(new UdpListening(local)));
        Receive<GetUdpStats>(_ => Sender.Tell(new UdpTrackerStats(_received, _dropped, _badIds, _connects, _announces,
            _scrapes, _errors, _busy, _sendFailures, _queue?.Dropped ?? 0)));
    }

    private void OnDatagram(Akka.IO.Udp.Received received)
    {
        _received++;
        if (received.Sender is not IPEndPoint remote)
        {
            Drop("no IP source");
            return;
        }
        var length = received.Data.Count;
        var request = UdpTrackerPackets.Parse(received.Data.ToReadOnlySpan(), remote.Address, _settings.Limits);
        if (request.Kind == UdpRequestKind.Drop)
        {
            Drop(request.Problem!);
            return;
        }
        if (request.Kind == UdpRequestKind.Connect)
        {
            _connects++;
            TrackerMetrics.UdpRequests.Add(1, new KeyValuePair<string, object?>("action", "connect"));
            // 16 bytes back for at least 16 in: a connect is no amplifier.
            Send(UdpTrackerPackets.ConnectAnswer(request.TransactionId, _ids.Issue(remote)), remote);
            return;
        }
        if (!_ids.IsValid(request.ConnectionId, remote))
        {
            // The source is unproven (forged, or an id from before a restart or from another node):
            // an error, cut to the request's own size, so nobody can aim our answers at a victim.
            _badIds++;
            TrackerMetrics.UdpDropped.Add(1, new KeyValuePair<string, object?>("reason", "connection-id"));
            var error = UdpTrackerPackets.ErrorAnswer(request.TransactionId, ConnectionIdProblem, maxLength: length);
            if (error is not null) Send(error, remote);
            return;
        }
        switch (request.Kind)
        {
            case UdpRequestKind.Announce:
                if (Busy(request.TransactionId, remote)) return;
                _announces++;
                _waiting++;
                TrackerMetrics.UdpRequests.Add(1, new KeyValuePair<string, object?>("action", "announce"));
                var ipv6 = request.Announce!.Ip.AddressFamily == AddressFamily.InterNetworkV6;
                _registry.Tell(new Announce(request.Announce, new AnnounceReply(remote, request.TransactionId, ipv6)));
                break;
            case UdpRequestKind.Scrape:
                var hashes = request.ScrapeHashes!; // at most 74: longer datagrams were dropped
                _scrapes++;
                TrackerMetrics.UdpRequests.Add(1, new KeyValuePair<string, object?>("action", "scrape"));
                // No info-hash: an empty answer (BEP 15 has no full scrape; the registry would read it as one).
                if (hashes.Count == 0)
                {
                    Send(UdpTrackerPackets.ScrapeAnswer(request.TransactionId, []), remote);
                    return;
                }
                if (Busy(request.TransactionId, remote)) return;
                _waiting++;
                _registry.Tell(new Scrape(hashes, new ScrapeReply(remote, request.TransactionId)));
                break;
            default:
                Error(request.TransactionId, request.Problem!, remote);
                break;
        }
    }

    private bool Busy(int transactionId, IPEndPoint remote)
    {
        if (_waiting < _settings.MaxPendingAnnounces) return false;
        _busy++;
        Error(transactionId, BusyProblem, remote);
        return true;
    }

    private void OnAnnounced(Announced announced)
    {
        if (announced.Correlation is not AnnounceReply reply) return;
        _waiting--;
        Send(UdpTrackerPackets.AnnounceAnswer(reply.TransactionId, _settings.Interval, announced.Incomplete, announced.Complete,
            announced.Peers, reply.Ipv6), reply.Remote);
    }

    private void OnAnnounceFailed(AnnounceFailed failed)
    {
        if (failed.Correlation is not AnnounceReply reply) return;
        _waiting--;
        Error(reply.TransactionId, failed.Reason, reply.Remote);
    }

    private void OnScraped(Scraped scraped)
    {
        if (scraped.Correlation is not ScrapeReply reply) return;
        _waiting--;
        Send(UdpTrackerPackets.ScrapeAnswer(reply.TransactionId, scraped.Swarms), reply.Remote);
    }

    private void Error(int transactionId, string problem, IPEndPoint remote)
    {
        _errors++;
        Send(UdpTrackerPackets.ErrorAnswer(transactionId, problem)!, remote);
    }

    private void Drop(string reason)
    {
        _dropped++;
        TrackerMetrics.UdpDropped.Add(1, new KeyValuePair<string, object?>("reason", "not-bep15"));
        if (_dropLog.ShouldLog(out var count))
            _log.Debug("Dropped a datagram that is not a BEP 15 request ({0}); {1} since the last such line", reason, count);
    }

    // Akka.IO sends a datagram at once (a non-blocking sendto); no ack needed to keep memory bounded.
    private void Send(byte[] bytes, IPEndPoint remote) =>
        _socket.Tell(Akka.IO.Udp.Send.Create(Akka.IO.ByteString.FromBytes(bytes), remote));

    /// <summary>An IPv6 socket that also takes IPv4.</summary>
    private sealed class DualMode : Inet.SocketOption
    {
        public override void BeforeDatagramBind(Socket socket) => socket.DualMode = true;
    }
}
