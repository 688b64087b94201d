using System.Diagnostics;
using System.Net;
using Actors.Net.Tcp;
using Actors.Net.Telemetry;
using Actors.Web.Http;
using Actors.Web.Telemetry;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Microsoft.Win32.SafeHandles;

namespace Actors.Web.Server;

/// <summary>
/// Owns one accepted TCP connection and speaks HTTP/1.1 on it: decodes requests (pipelined ones
/// wait in the bounded decoder), answers them one at a time in order, and streams file bodies in
/// chunks, at most <see cref="MaxWritesInFlight"/> unacknowledged, so a client that stops reading
/// costs us two chunks of memory, never the file. Reading is suspended while a response is being
/// written, which paces a client that pipelines faster than we answer.
/// </summary>
public sealed class HttpConnection : ReceiveActor, IWithTimers
{
    private const int MaxWritesInFlight = 2;

    private sealed class WriteAck : Akka.IO.Tcp.Event { public static readonly WriteAck Instance = new(); }
    private sealed class ReadTimeout { public static readonly ReadTimeout Instance = new(); }
    private sealed class WriteTimeout { public static readonly WriteTimeout Instance = new(); }
    private sealed class HandlerTimeout { public static readonly HandlerTimeout Instance = new(); }

    private readonly IActorRef _connection;
    private readonly IPEndPoint _remote;
    private readonly WebServerSettings _settings;
    private readonly StaticFiles _files;
    private readonly IReadOnlyList<HttpRoute> _routes;
    private readonly HttpRequestDecoder _decoder;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    // The response being written.
    private HttpRequest? _request;
    private ResponsePlan? _plan;
    private bool _closeAfterResponse;
    private SafeFileHandle? _file;
    private long _fileNext, _fileEnd;
    private int _writesInFlight;
    private long _bytesSent;
    private long _startedAt;
    private bool _readingSuspended;
    // The client half-closed (sent FIN): answer what it already asked, then close.
    private bool _peerClosed;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef connection, EndPoint remote, WebServerSettings settings,
        StaticFiles files, IReadOnlyList<HttpRoute> routes) =>
        Akka.Actor.Props.Create(() => new HttpConnection(connection, remote, settings, files, routes));

    public HttpConnection(IActorRef connection, EndPoint remote, WebServerSettings settings,
        StaticFiles files, IReadOnlyList<HttpRoute> routes)
    {
        _connection = connection;
        _remote = remote as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        _settings = settings;
        _files = files;
        _routes = routes;
        _decoder = new HttpRequestDecoder(settings.Limits);
        ReadingRequests();
    }

    protected override void PreStart()
    {
        _connection.Tell(new Akka.IO.Tcp.Register(Self, keepOpenOnPeerClosed: true, useResumeWriting: false));
        Context.Watch(_connection);
        ArmReadTimeout();
    }

    protected override void PostStop() => _file?.Dispose();

    // ---- State: waiting for (the rest of) a request ----------------------------------------

    private void ReadingRequests()
    {
        Receive<Akka.IO.Tcp.Received>(received =>
        {
            NetMetrics.BytesReceived.Add(received.Data.Count);
            var wasIdle = !_decoder.RequestStarted;
            _decoder.Feed(received.Data.ToReadOnlySpan());
            if (wasIdle) ArmReadTimeout();
            DecodeNext();
        });
        Receive<ReadTimeout>(_ =>
        {
            if (!_decoder.RequestStarted)
            {
                // Idle keep-alive connection: close quietly, as nginx and Kestrel do.
                _connection.Tell(Akka.IO.Tcp.Close.Instance);
                Become(Closing);
                return;
            }
            _log.Info("{0} sent no complete request header within {1}: 408", Endpoints.Format(_remote), _settings.HeaderTimeout);
            StartResponse(null, ResponsePlan.Error(408), close: true);
        });
        Receive<Akka.IO.Tcp.PeerClosed>(_ =>
        {
            // Every complete request was taken already (DecodeNext runs after each read), so
            // nothing is left to answer: a partial request can never complete now.
            _peerClosed = true;
            _connection.Tell(Akka.IO.Tcp.Close.Instance);
            Become(Closing);
        });
        ConnectionEvents();
    }

    /// <summary>Starts answering the next buffered request, if complete; false when more bytes are needed.</summary>
    private bool DecodeNext()
    {
        switch (_decoder.Next(out var request, out var error))
        {
            case DecodeStatus.Request:
                Handle(request!);
                return true;
            case DecodeStatus.Error:
                StartResponse(null, ResponsePlan.Error(error.Status), close: true);
                return true;
            default:
                ResumeReading();
                return false;
        }
    }

    private void Handle(HttpRequest request)
    {
        _startedAt = Stopwatch.GetTimestamp();
        var route = FindRoute(request.Path);
        if (route is null)
        {
            StartResponse(request, _files.Plan(request), close: !request.KeepAlive);
            return;
        }
        SuspendReading();
        route.Handler.Tell(new HttpRequestReceived(request, _remote));
        Timers.StartSingleTimer(HandlerTimeout.Instance, HandlerTimeout.Instance, TimeSpan.FromSeconds(10));
        Become(() => AwaitingHandler(request));
    }

    private HttpRoute? FindRoute(string path)
    {
        foreach (var route in _routes)
            if (path.StartsWith(route.PathPrefix, StringComparison.Ordinal))
                return route;
        return null;
    }

    // ---- State: a routed handler actor is preparing the answer -----------------------------

    private void AwaitingHandler(HttpRequest request)
    {
        Receive<HttpReply>(reply =>
        {
            Timers.Cancel(HandlerTimeout.Instance);
            var plan = ResponsePlan.Bytes(reply.Status, reply.ContentType, reply.Body, request.Method != "HEAD");
            foreach (var (name, value) in reply.Headers ?? [])
                plan.Head.Header(name, value);
            StartResponse(request, plan, close: !request.KeepAlive);
        });
        Receive<HttpStreamStart>(start =>
        {
            Timers.Cancel(HandlerTimeout.Instance);
            StartStream(request, start, Sender);
        });
        Receive<HandlerTimeout>(_ => StartResponse(request, ResponsePlan.Error(503), close: true));
        Receive<Akka.IO.Tcp.Received>(received => _decoder.Feed(received.Data.ToReadOnlySpan()));
        Receive<Akka.IO.Tcp.PeerClosed>(_ => _peerClosed = true);
        ConnectionEvents();
    }

    // ---- State: a streamed response (Server-Sent Events), paced by write acks -------------

    private void StartStream(HttpRequest request, HttpStreamStart start, IActorRef source)
    {
        SuspendReading();
        Timers.Cancel(ReadTimeout.Instance);
        _request = request;
        var head = new HttpResponseHead(start.Status).Header("Content-Type", start.ContentType);
        foreach (var (name, value) in start.Headers ?? [])
            head.Header(name, value);
        // No Content-Length: the body ends when the connection closes (RFC 9112 §6.3).
        head.Header("Date", CurrentDate.Value).Header("Server", "actors").Header("Connection", "close");
        Context.Watch(source);
        Become(() => Streaming(source));
        Write(ByteString.FromBytes(head.Encode()));
    }

    private void Streaming(IActorRef source)
    {
        var ending = false;
        Receive<WriteAck>(_ =>
        {
            _writesInFlight--;
            if (_writesInFlight > 0) return;
            Timers.Cancel(WriteTimeout.Instance);
            if (ending)
            {
                _connection.Tell(Akka.IO.Tcp.Close.Instance);
                Become(Closing);
                return;
            }
            source.Tell(HttpStreamChunkWritten.Instance);
        });
        Receive<HttpStreamChunk>(chunk => Write(ByteString.FromBytes(chunk.Data)));
        Receive<HttpStreamEnd>(_ => EndStream(ref ending));
        Receive<Terminated>(t => t.ActorRef.Equals(source), _ => EndStream(ref ending));
        Receive<WriteTimeout>(_ =>
        {
            _log.Info("{0} stopped reading a stream for {1}: aborting", Endpoints.Format(_remote), _settings.WriteTimeout);
            _connection.Tell(Akka.IO.Tcp.Abort.Instance);
            Become(Closing);
        });
        Receive<Akka.IO.Tcp.Received>(_ => { });
        Receive<Akka.IO.Tcp.PeerClosed>(_ => { _connection.Tell(Akka.IO.Tcp.Close.Instance); Become(Closing); });
        ConnectionEvents();
    }

    private void EndStream(ref bool ending)
    {
        ending = true;
        if (_writesInFlight > 0) return;
        _connection.Tell(Akka.IO.Tcp.Close.Instance);
        Become(Closing);
    }

    // ---- State: writing a response ---------------------------------------------------------

    private void StartResponse(HttpRequest? request, ResponsePlan plan, bool close)
    {
        SuspendReading();
        Timers.Cancel(ReadTimeout.Instance);
        if (request is null) _startedAt = Stopwatch.GetTimestamp();
        _request = request;
        _plan = plan;
        _closeAfterResponse = close || request?.Version == Http.HttpVersion.Http10 && !request.KeepAlive;
        _bytesSent = 0;

        plan.Head.Header("Date", CurrentDate.Value).Header("Server", "actors");
        if (_closeAfterResponse) plan.Head.Header("Connection", "close");
        else if (request?.Version == Http.HttpVersion.Http10) plan.Head.Header("Connection", "keep-alive");
        var head = plan.Head.Encode();
        Become(Responding);

        if (plan.SendBody && plan.File is { Length: > 0 } slice)
        {
            try
            {
                _file = File.OpenHandle(slice.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The file vanished or became unreadable between planning and opening.
                _log.Warning("Cannot open {0}: {1}", slice.Path, ex.Message);
                StartResponse(request, ResponsePlan.Error(ex is UnauthorizedAccessException ? 403 : 404), close);
                return;
            }
            _fileNext = slice.Offset;
            _fileEnd = slice.Offset + slice.Length;
            // The head travels with the first chunk: one write (and one ack) for a small file.
            FillWriteWindow(head);
        }
        else
        {
            var body = plan.SendBody ? plan.Body : ReadOnlyMemory<byte>.Empty;
            var bytes = new byte[head.Length + body.Length];
            head.CopyTo(bytes, 0);
            body.Span.CopyTo(bytes.AsSpan(head.Length));
            Write(ByteString.FromBytes(bytes));
        }
    }

    private void Responding()
    {
        Receive<WriteAck>(_ =>
        {
            _writesInFlight--;
            FillWriteWindow();
            if (_writesInFlight == 0 && _file is null) FinishResponse();
        });
        Receive<WriteTimeout>(_ =>
        {
            _log.Info("{0} stopped reading for {1}: aborting", Endpoints.Format(_remote), _settings.WriteTimeout);
            _connection.Tell(Akka.IO.Tcp.Abort.Instance);
            Become(Closing);
        });
        // Pipelined bytes that were already on their way when we suspended reading.
        Receive<Akka.IO.Tcp.Received>(received => _decoder.Feed(received.Data.ToReadOnlySpan()));
        Receive<Akka.IO.Tcp.PeerClosed>(_ => _peerClosed = true);
        ConnectionEvents();
    }

    private void FillWriteWindow(byte[]? head = null)
    {
        while (_file is not null && _writesInFlight < MaxWritesInFlight)
        {
            var prefix = head?.Length ?? 0;
            var size = (int)Math.Min(_settings.ChunkSize, _fileEnd - _fileNext);
            // A fresh array per chunk: Akka.IO may still hold the previous one until its ack.
            var chunk = new byte[prefix + size];
            head?.CopyTo(chunk, 0);
            head = null;
            var read = RandomAccess.Read(_file, chunk.AsSpan(prefix), _fileNext);
            if (read <= 0)
            {
                // The file shrank under us: the promised Content-Length cannot be met, so the
                // only honest signal left is to abort the connection.
                _log.Warning("{0} shrank while being sent; aborting the connection", _plan?.File?.Path);
                _connection.Tell(Akka.IO.Tcp.Abort.Instance);
                Become(Closing);
                return;
            }
            _fileNext += read;
            Write(ByteString.FromBytes(chunk, 0, prefix + read));
            if (_fileNext >= _fileEnd)
            {
                _file.Dispose();
                _file = null;
            }
        }
    }

    private void Write(ByteString data)
    {
        _writesInFlight++;
        _bytesSent += data.Count;
        NetMetrics.BytesSent.Add(data.Count);
        _connection.Tell(Akka.IO.Tcp.Write.Create(data, WriteAck.Instance));
        Timers.StartSingleTimer(WriteTimeout.Instance, WriteTimeout.Instance, _settings.WriteTimeout);
    }

    private void FinishResponse()
    {
        Timers.Cancel(WriteTimeout.Instance);
        if (_plan is not null) WebMetrics.Answered(_plan.Status);
        LogAccess();
        _request = null;
        _plan = null;
        if (_closeAfterResponse)
        {
            _connection.Tell(Akka.IO.Tcp.Close.Instance);
            Become(Closing);
            return;
        }
        Become(ReadingRequests);
        ArmReadTimeout();
        // A half-closed client gets answers to the requests it pipelined before its FIN, then we close.
        if (!DecodeNext() && _peerClosed)
        {
            _connection.Tell(Akka.IO.Tcp.Close.Instance);
            Become(Closing);
        }
    }

    private void LogAccess()
    {
        if (!_settings.AccessLog || _plan is null) return;
        var elapsed = Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds;
        var line = _request is null ? "-" : $"{_request.Method} {_request.Target} {(_request.Version == Http.HttpVersion.Http10 ? "HTTP/1.0" : "HTTP/1.1")}";
        _log.Info("{0} \"{1}\" {2} {3} {4:F1}ms", Endpoints.Format(_remote), line, _plan.Status,
            _plan.SendBody ? _plan.BodyLength : 0, elapsed);
    }

    // ---- Closing and events common to every state ------------------------------------------

    private void Closing()
    {
        Receive<Akka.IO.Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        Receive<Terminated>(_ => Context.Stop(Self));
        ReceiveAny(_ => { });
    }

    private void ConnectionEvents()
    {
        Receive<Akka.IO.Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        Receive<Akka.IO.Tcp.CommandFailed>(failed =>
        {
            _log.Debug("{0}: {1}; closing", Endpoints.Format(_remote), failed.CauseString);
            Context.Stop(Self);
        });
        Receive<Terminated>(_ => Context.Stop(Self));
    }

    private void ArmReadTimeout() =>
        Timers.StartSingleTimer(ReadTimeout.Instance, ReadTimeout.Instance,
            _decoder.RequestStarted ? _settings.HeaderTimeout : _settings.IdleTimeout);

    private void SuspendReading()
    {
        if (_readingSuspended) return;
        _readingSuspended = true;
        _connection.Tell(Akka.IO.Tcp.SuspendReading.Instance);
    }

    private void ResumeReading()
    {
        if (!_readingSuspended) return;
        _readingSuspended = false;
        _connection.Tell(Akka.IO.Tcp.ResumeReading.Instance);
    }
}
