using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Peer.Connections;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Picking;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Peer;

// Before the connection carries pieces: dialling (outbound), both handshakes, and waiting for the
// torrent's welcome (our bitfield, the extended handshake, the allowed-fast set).
public sealed partial class PeerConnection
{
    // ---- Connecting (outbound only) ------------------------------------------------------

    private void Connecting()
    {
        Receive<Tcp.Connected>(connected =>
        {
            _context.Budget.DialConnected();
            _slot = Slot.Open;
            _connection = Sender;
            _remote = connected.RemoteAddress;
            Register();
            SendHandshake();
            Become(Handshaking);
        });
        Receive<Tcp.CommandFailed>(failed =>
        {
            var outOfResources = failed.Cause.HasValue && IsOutOfResources(failed.Cause.Value);
            if (outOfResources)
            {
                // The machine ran out (descriptors, ports): every dial of the process backs off.
                var pause = _context.Budget.ReportExhausted();
                if (_context.Budget.ExhaustionLog.ShouldLog(out var count))
                    _log.Warning("Cannot connect to {0}: {1}; dials pause for {2:F0} s ({3} such failures since the last warning)",
                        Who, failed.CauseString, pause.TotalSeconds, count);
            }
            else
            {
                _log.Debug("Cannot connect to {0}: {1}", Who, failed.CauseString);
            }
            DialFailed(failed.CauseString, outOfResources);
        });
        // Akka.IO answers nothing when it cannot even create the socket: the timeout is the answer.
        Receive<HandshakeTimeout>(_ => DialFailed("no answer to connect", outOfResources: false));
        Receive<Disconnect>(_ => Context.Stop(Self));
    }

    private void DialFailed(string reason, bool outOfResources)
    {
        if (_dialled is IPEndPoint ip) _context.TorrentActor.Tell(new DialFailed(ip, reason, outOfResources));
        Context.Stop(Self);
    }

    /// <summary>Failures that say "the machine is out", not "that peer is unreachable".</summary>
    public static bool IsOutOfResources(Exception cause) =>
        cause is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets or SocketError.AddressNotAvailable
            or SocketError.AddressAlreadyInUse or SocketError.NoBufferSpaceAvailable }
        || cause.InnerException is { } inner && IsOutOfResources(inner)
        || cause.Message.Contains("Too many open files", StringComparison.OrdinalIgnoreCase);

    // ---- Handshaking ---------------------------------------------------------------------

    private void SendHandshake() =>
        Send(new Handshake(Handshake.OurReserved(dht: _context.Dht is not null), _context.Torrent.InfoHash.ToArray(), _context.OurPeerId).Encode());

    private void Handshaking()
    {
        Receive<Tcp.Received>(received =>
        {
            if (!Decode(received.Data)) return;
            if (!_decoder.HandshakeDone) return;
            var handshake = _decoder.Handshake!;
            if (!handshake.InfoHash.AsSpan().SequenceEqual(_context.Torrent.InfoHash.Span))
            {
                Drop("handshake for another torrent");
                return;
            }
            if (handshake.PeerId.AsSpan().SequenceEqual(_context.OurPeerId))
            {
                Drop("connected to ourselves");
                return;
            }
            if (!_outbound) SendHandshake();
            _fast = handshake.SupportsFast;
            _extensions = handshake.SupportsExtensions;
            _theirDht = handshake.SupportsDht;
            _early.AddRange(_decoded);
            SuspendReading();
            _context.TorrentActor.Tell(new PeerHandshaken(handshake.PeerId, ToIp(_remote), _outbound));
            Become(AwaitingWelcome);
        });
        Receive<HandshakeTimeout>(_ => Drop("no handshake in time"));
        Receive<Disconnect>(d => Drop(d.Reason));
        Writes();
        ConnectionEvents();
    }

    private static IPEndPoint ToIp(EndPoint endPoint) => endPoint is IPEndPoint ip
        ? new IPEndPoint(Endpoints.Normalize(ip.Address), ip.Port)
        : new IPEndPoint(IPAddress.None, 0);

    private void AwaitingWelcome()
    {
        Receive<Welcome>(welcome =>
        {
            Timers.Cancel(HandshakeTimeout.Instance);
            _ourPieces = welcome.OurPieces.Clone();
            SendOurPieces();
            if (_extensions) SendExtensionHandshake();
            if (_fast) SendAllowedFast();
            if (_theirDht && _context.Dht is { } dht) Send(WireEncoder.Encode(new WireMessage.Port(dht.UdpPort)));
            TickFast(true);
            Become(Connected);
            var early = _early.ToArray();
            _early.Clear();
            Handle(early);
            ResumeReading();
        });
        Receive<Tcp.Received>(received =>
        {
            if (Decode(received.Data)) _early.AddRange(_decoded);
        });
        Receive<HandshakeTimeout>(_ => Drop("not welcomed in time"));
        Receive<Disconnect>(d => Drop(d.Reason));
        Writes();
        ConnectionEvents();
    }
}
