using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Actors.Net.Udp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Peer.Announce;

/// <summary>Timing of BEP 15 announces: how long to wait for an answer and how often to send again.</summary>
/// <param name="FirstTimeout">BEP 15: 15 s, doubling with each retransmission (15 · 2^n).</param>
/// <param name="MaxRetransmissions">
/// BEP 15 allows n up to 8 (over an hour); a client with other trackers to try gives up sooner:
/// 2 means 15 + 30 + 60 s before the next URL of the tier.
/// </param>
/// <param name="ConnectionIdLifetime">BEP 15: a client may use a connection id for one minute.</param>
public sealed record UdpAnnounceSettings(TimeSpan FirstTimeout, int MaxRetransmissions, TimeSpan ConnectionIdLifetime)
{
    public static UdpAnnounceSettings Default { get; } = new(TimeSpan.FromSeconds(15), 2, TimeSpan.FromMinutes(1));
}

/// <summary>
/// Announces over UDP (BEP 15) for the <see cref="Announcer"/>, its parent: one actor owns the
/// torrent's UDP sockets (one per address family, bound on first use through Akka.IO
/// <c>Udp.Bind</c>), resolves tracker names, keeps each tracker's connection id for a minute, and
/// sends connect and announce datagrams again on a doubling timeout. Each request is answered with
/// <see cref="Succeeded"/> or <see cref="Failed"/>.
/// </summary>
public sealed class UdpAnnouncer : ReceiveActor, IWithTimers
{
    public sealed record Request(long Id, string Url, DnsEndPoint Tracker, AnnounceRequest Announce);
    public sealed record Succeeded(long Id, AnnounceResponse Response);
    public sealed record Failed(long Id, string Reason);

    private sealed record Resolved(long Id, IPAddress? Address, string? Error);
    private sealed record Retransmit(int TransactionId);

    /// <summary>One request on its way: resolving, connecting or announcing.</summary>
    private sealed class Exchange(Request request, IActorRef replyTo)
    {
        public Request Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public IPEndPoint? Target { get; set; }
        public bool Announcing { get; set; }
        public bool UsedCachedId { get; set; }
        public byte[] Datagram { get; set; } = [];
        public int TransactionId { get; set; }
        public int Sends { get; set; }
    }

    /// <summary>
    /// On <see cref="DatagramMailbox"/> (anyone may send to our ports: at most
    /// <c>max-queued-datagrams</c> wait, a flood beyond that is dropped and counted); call
    /// <see cref="DatagramMailbox.Ensure"/> before creating it.
    /// </summary>
    public static Props Props(UdpAnnounceSettings? settings = null) =>
        DatagramMailbox.Select(Akka.Actor.Props.Create(() => new UdpAnnouncer(settings ?? UdpAnnounceSettings.Default)));

    private readonly UdpAnnounceSettings _settings;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<long, Exchange> _byId = new();
    private readonly Dictionary<int, Exchange> _byTransaction = new();
    private readonly Dictionary<AddressFamily, IActorRef> _sockets = new();
    private readonly Dictionary<AddressFamily, List<Exchange>> _waitingForSocket = new();
    private readonly Dictionary<IPEndPoint, (long Id, DateTime Until)> _connectionIds = new();
    // One random key per announcer, as BEP 15 asks: the tracker may use it to recognise us across address changes.
    private readonly uint _key = (uint)RandomNumberGenerator.GetInt32(int.MaxValue);

    public ITimerScheduler Timers { get; set; } = null!;

    public UdpAnnouncer(UdpAnnounceSettings settings)
    {
        _settings = settings;
        Receive<Request>(OnRequest);
        Receive<Resolved>(OnResolved);
        Receive<Akka.IO.Udp.Bound>(OnBound);
        Receive<Akka.IO.Udp.CommandFailed>(OnCommandFailed);
        Receive<Akka.IO.Udp.Received>(OnReceived);
        Receive<Retransmit>(OnRetransmit);
    }

    private void OnRequest(Request request)
    {
        var exchange = new Exchange(request, Sender);
        _byId[request.Id] = exchange;
        if (IPAddress.TryParse(request.Tracker.Host, out var literal))
        {
            OnResolved(new Resolved(request.Id, literal, null));
            return;
        }
        var self = Self;
        // Name resolution off the actor's thread; the answer comes back as a message.
        System.Net.Dns.GetHostAddressesAsync(request.Tracker.Host).ContinueWith(task => task.IsCompletedSuccessfully
            ? new Resolved(request.Id, task.Result.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault(),
                task.Result.Length == 0 ? "no address" : null)
            : new Resolved(request.Id, null, task.Exception?.GetBaseException().Message ?? "cancelled"), TaskScheduler.Default).PipeTo(self);
    }

    private void OnResolved(Resolved resolved)
    {
        if (!_byId.TryGetValue(resolved.Id, out var exchange)) return;
        if (resolved.Address is null)
        {
            Fail(exchange, $"cannot resolve {exchange.Request.Tracker.Host}: {resolved.Error}");
            return;
        }
        exchange.Target = new IPEndPoint(resolved.Address, exchange.Request.Tracker.Port);
        var family = resolved.Address.AddressFamily;
        if (_sockets.ContainsKey(family))
        {
            Begin(exchange);
            return;
        }
        if (!_waitingForSocket.TryGetValue(family, out var waiting))
        {
            _waitingForSocket[family] = waiting = [];
            var any = family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            Context.System.Udp().Tell(new Akka.IO.Udp.Bind(Self, new IPEndPoint(any, 0)));
        }
        waiting.Add(exchange);
    }

    private void OnBound(Akka.IO.Udp.Bound bound)
    {
        var family = ((IPEndPoint)bound.LocalAddress).AddressFamily;
        _sockets[family] = Sender;
        if (_waitingForSocket.Remove(family, out var waiting))
            foreach (var exchange in waiting) Begin(exchange);
    }

    private void OnCommandFailed(Akka.IO.Udp.CommandFailed failed)
    {
        if (failed.Cmd is Akka.IO.Udp.Bind bind)
        {
            var family = ((IPEndPoint)bind.LocalAddress).AddressFamily;
            if (_waitingForSocket.Remove(family, out var waiting))
                foreach (var exchange in waiting) Fail(exchange, $"cannot open a UDP socket for {family}");
        }
        // A send the socket refused is like a lost datagram: the retransmission timer covers it.
    }

    /// <summary>Announce with the cached connection id, or connect first.</summary>
    private void Begin(Exchange exchange)
    {
        if (_connectionIds.TryGetValue(exchange.Target!, out var cached) && cached.Until > DateTime.UtcNow)
        {
            exchange.UsedCachedId = true;
            SendAnnounce(exchange, cached.Id);
        }
        else
        {
            Send(exchange, announcing: false, transactionId => UdpTrackerAnnounce.ConnectRequest(transactionId));
        }
    }

    private void SendAnnounce(Exchange exchange, long connectionId) =>
        Send(exchange, announcing: true, transactionId => UdpTrackerAnnounce.AnnounceRequest(connectionId, transactionId, exchange.Request.Announce, _key));

    private void Send(Exchange exchange, bool announcing, Func<int, byte[]> build)
    {
        Forget(exchange);
        int transactionId;
        do transactionId = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
        while (_byTransaction.ContainsKey(transactionId));
        exchange.TransactionId = transactionId;
        exchange.Announcing = announcing;
        exchange.Datagram = build(transactionId);
        exchange.Sends = 0;
        _byTransaction[transactionId] = exchange;
        Transmit(exchange);
    }

    private void Transmit(Exchange exchange)
    {
        var socket = _sockets[exchange.Target!.AddressFamily];
        socket.Tell(Akka.IO.Udp.Send.Create(ByteString.FromBytes(exchange.Datagram), exchange.Target));
        // BEP 15: wait 15 · 2^n seconds for the n-th transmission's answer.
        var timeout = _settings.FirstTimeout * Math.Pow(2, exchange.Sends);
        exchange.Sends++;
        Timers.StartSingleTimer(exchange.TransactionId, new Retransmit(exchange.TransactionId), timeout);
    }

    private void OnRetransmit(Retransmit retransmit)
    {
        if (!_byTransaction.TryGetValue(retransmit.TransactionId, out var exchange)) return;
        if (exchange.Sends > _settings.MaxRetransmissions)
        {
            Fail(exchange, $"no answer from {exchange.Request.Url} after {exchange.Sends} tries");
            return;
        }
        Transmit(exchange);
    }

    private void OnReceived(Akka.IO.Udp.Received received)
    {
        var data = received.Data.ToReadOnlySpan();
        // Only an answer from the tracker we asked, with a transaction id we are waiting for, counts.
        if (UdpTrackerAnnounce.TransactionId(data) is not { } transactionId
            || !_byTransaction.TryGetValue(transactionId, out var exchange)
            || received.Sender is not IPEndPoint from
            || !Normalize(from).Equals(Normalize(exchange.Target!)))
            return;
        try
        {
            if (!exchange.Announcing)
            {
                var connectionId = UdpTrackerAnnounce.ParseConnectAnswer(data);
                _connectionIds[exchange.Target!] = (connectionId, DateTime.UtcNow + _settings.ConnectionIdLifetime);
                SendAnnounce(exchange, connectionId);
                return;
            }
            var response = UdpTrackerAnnounce.ParseAnnounceAnswer(data, exchange.Target!.AddressFamily == AddressFamily.InterNetworkV6);
            Forget(exchange);
            _byId.Remove(exchange.Request.Id);
            exchange.ReplyTo.Tell(new Succeeded(exchange.Request.Id, response));
        }
        catch (AnnounceException ex)
        {
            if (exchange.Announcing && exchange.UsedCachedId)
            {
                // Our cached id may be stale (the tracker restarted, or rotated its secret): connect afresh, once.
                _log.Debug("{0} refused a cached connection id ({1}); connecting again", exchange.Request.Url, ex.Message);
                _connectionIds.Remove(exchange.Target!);
                exchange.UsedCachedId = false;
                Send(exchange, announcing: false, UdpTrackerAnnounce.ConnectRequest);
                return;
            }
            Fail(exchange, $"{exchange.Request.Url}: {ex.Message}");
        }
    }

    private void Fail(Exchange exchange, string reason)
    {
        Forget(exchange);
        _byId.Remove(exchange.Request.Id);
        exchange.ReplyTo.Tell(new Failed(exchange.Request.Id, reason));
    }

    private void Forget(Exchange exchange)
    {
        if (_byTransaction.TryGetValue(exchange.TransactionId, out var current) && current == exchange)
        {
            _byTransaction.Remove(exchange.TransactionId);
            Timers.Cancel(exchange.TransactionId);
        }
    }

    private static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    protected override void PostStop()
    {
        foreach (var socket in _sockets.Values) socket.Tell(Akka.IO.Udp.Unbind.Instance);
    }
}
