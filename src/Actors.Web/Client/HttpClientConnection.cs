using System.Net;
using System.Text;
using Actors.Web.Http;
using Akka.Actor;
using Akka.IO;

namespace Actors.Web.Client;

/// <summary>
/// One outbound HTTP/1.1 connection to one origin. It connects, then serves one <see cref="Fetch"/>
/// at a time: writes the request, decodes the response with the shared codec, and reports it to
/// its parent, the <see cref="HttpClientActor"/>. After a keep-alive response it waits idle for
/// the next fetch (the pool reuses it); otherwise, or after the idle timeout, it stops.
/// </summary>
internal sealed class HttpClientConnection : ReceiveActor, IWithTimers
{
    internal sealed record Fetch(long Id, Uri Url);
    internal sealed record Fetched(long Id, HttpResponse Response, bool Reusable);
    internal sealed record FetchFailed(long Id, string Reason);
    private sealed class IdleTimeout { public static readonly IdleTimeout Instance = new(); }

    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _idleTimeout;
    private readonly long _maxBodyBytes;
    private IActorRef _connection = ActorRefs.Nobody;
    private HttpResponseDecoder _decoder = null!;
    private Fetch? _current;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string host, int port, Fetch first, TimeSpan connectTimeout, TimeSpan idleTimeout, long maxBodyBytes) =>
        Akka.Actor.Props.Create(() => new HttpClientConnection(host, port, first, connectTimeout, idleTimeout, maxBodyBytes));

    public HttpClientConnection(string host, int port, Fetch first, TimeSpan connectTimeout, TimeSpan idleTimeout, long maxBodyBytes)
    {
        _host = host;
        _port = port;
        _idleTimeout = idleTimeout;
        _maxBodyBytes = maxBodyBytes;
        _current = first;
        EndPoint remote = IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
        Context.System.Tcp().Tell(new Akka.IO.Tcp.Connect(remote, timeout: connectTimeout));
        Connecting();
    }

    private void Connecting()
    {
        Receive<Akka.IO.Tcp.Connected>(_ =>
        {
            _connection = Sender;
            _connection.Tell(new Akka.IO.Tcp.Register(Self));
            Send(_current!);
        });
        Receive<Akka.IO.Tcp.CommandFailed>(failed => Fail($"cannot connect to {_host}:{_port}: {failed.CauseString}"));
    }

    private void Send(Fetch fetch)
    {
        Timers.Cancel(IdleTimeout.Instance);
        _current = fetch;
        _decoder = new HttpResponseDecoder(_maxBodyBytes);
        var hostHeader = fetch.Url.IsDefaultPort ? fetch.Url.IdnHost : $"{fetch.Url.IdnHost}:{fetch.Url.Port}";
        var request = $"GET {fetch.Url.PathAndQuery} HTTP/1.1\r\nHost: {hostHeader}\r\nUser-Agent: actors\r\nAccept: */*\r\n\r\n";
        _connection.Tell(Akka.IO.Tcp.Write.Create(ByteString.FromBytes(Encoding.ASCII.GetBytes(request))));
        Become(AwaitingResponse);
    }

    private void AwaitingResponse()
    {
        Receive<Akka.IO.Tcp.Received>(received =>
        {
            _decoder.Feed(received.Data.ToReadOnlySpan());
            Deliver(_decoder.Next(out var response, out var error), response, error);
        });
        Receive<Akka.IO.Tcp.ConnectionClosed>(_ =>
        {
            // A response without a length ends when the server closes.
            Deliver(_decoder.Complete(out var response, out var error), response, error, closed: true);
            Context.Stop(Self);
        });
        Receive<Akka.IO.Tcp.CommandFailed>(failed => Fail(failed.CauseString));
    }

    private void Deliver(DecodeStatus status, HttpResponse? response, HttpError error, bool closed = false)
    {
        switch (status)
        {
            case DecodeStatus.Response:
                var reusable = !closed && response!.KeepAlive;
                Context.Parent.Tell(new Fetched(_current!.Id, response!, reusable));
                _current = null;
                if (reusable) { Become(Idle); Timers.StartSingleTimer(IdleTimeout.Instance, IdleTimeout.Instance, _idleTimeout); }
                else Close();
                break;
            case DecodeStatus.Error:
                Fail($"bad response from {_host}:{_port}: {error.Reason}");
                break;
            default:
                if (closed) Fail($"{_host}:{_port} closed the connection before a complete response");
                break;
        }
    }

    private void Idle()
    {
        Receive<Fetch>(Send);
        Receive<IdleTimeout>(_ => Close());
        Receive<Akka.IO.Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        // A server that talks while nothing was asked is broken; drop the connection.
        Receive<Akka.IO.Tcp.Received>(_ => Close());
    }

    private void Fail(string reason)
    {
        if (_current is not null) Context.Parent.Tell(new FetchFailed(_current.Id, reason));
        _current = null;
        Close();
    }

    private void Close()
    {
        if (!_connection.IsNobody()) _connection.Tell(Akka.IO.Tcp.Close.Instance);
        Context.Stop(Self);
    }
}
