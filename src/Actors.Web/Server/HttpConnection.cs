using System.Diagnostics;
using System.Net;
using Actors.Net.Tcp;
using Actors.Net.Telemetry;
using Actors.Web.Http;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Microsoft.Win32.SafeHandles;

namespace Actors.Web.Server;

/// <summary>
/// Owns one accepted TCP connection and speaks HTTP/1.1 on it: decodes requests (pipelined ones
/// wait in the bounded decoder), answers them one at a time in order, and streams file bodies in
/// chunks.
/// <para>
/// Cheap per request (see src/Actors.Net/README.md, "Where the time goes"): a response that fits in
/// one write is written without waiting for its ack and without pausing reads, timeouts are
/// deadlines checked by one lazily re-armed timer, and the request cycle stays in one behaviour
/// (<see cref="Open"/>; a <c>Become</c> per request cost ~8% of the CPU), with the phase in a field.
/// </para>
/// <para>
/// Cheap per connection: an <see cref="ActorBase"/> that dispatches with a <c>switch</c> on the
/// phase and the message. A <c>ReceiveActor</c> builds its handler table (delegates, matchers,
/// <c>MakeGenericType</c>) for every instance and again on every <c>Become</c>: with a connection
/// per request, handler tables were ~24% of the bytes allocated per connection (Akka.IO's actors
/// and ours together; src/Actors.Net/README.md). Closing and streaming are phases too, not behaviours.
/// </para>
/// <para>
/// Reads only when asked: the listener binds in Akka.IO's pull mode, so the socket is read once per
/// <c>ResumeReading</c> (<see cref="AskToRead"/>), and the connection asks only when it is idle and
/// its decoder needs more bytes. After the last request of a connection (<c>Connection: close</c>,
/// every tracker announce) nothing is asked: in push mode Akka.IO issued another receive after every
/// read, which could only fail (EAGAIN), registered the socket with epoll, and at close came back
/// aborted on a thread-pool thread as a dead letter. A tracker announce costs ~15% less CPU for it
/// (src/Actors.Net/README.md, "Reads only when asked").
/// </para>
/// <para>
/// Back-pressure: bytes handed to Akka.IO but not yet known to have reached the OS
/// (<see cref="Unconfirmed"/>) stay within two chunks plus one response. One write in every half
/// chunk carries an ack; every chunk of a streamed file carries one. A client that stops reading therefore
/// costs two chunks of memory, never the file; a client that pipelines faster than we answer is not
/// read from until we catch up (the decoder holds at most one read beyond the request being answered).
/// </para>
/// <para>
/// A route's handler may answer <see cref="HttpStreamStart"/> instead of <see cref="HttpReply"/>
/// (the Lab's Server-Sent Events): the connection then belongs to that stream (<see cref="Streaming"/>)
/// until it ends, and closes.
/// </para>
/// Files: this one (requests, closing), <c>.Timeouts</c> (one deadline, one lazily re-armed timer), <c>.Writing</c> (responses and streams, paced by acks).
/// </summary>
public sealed partial class HttpConnection : ActorBase, IWithTimers
{
    // Streaming: the connection belongs to a streamed response until it ends. Closed: Close or
    // Abort was sent, waiting for Akka.IO's ConnectionClosed (or the write timeout).
    private enum Phase { Idle, AwaitingHandler, Writing, Streaming, Closed }

    private sealed class WriteAck : Akka.IO.Tcp.Event { public static readonly WriteAck Instance = new(); }

    private readonly IActorRef _connection;
    private readonly IPEndPoint _remote;
    private readonly WebServerSettings _settings;
    private readonly StaticFiles _files;
    private readonly IReadOnlyList<HttpRoute> _routes;
    private readonly HttpRequestDecoder _decoder;
    // Made on first use: creating a logger formats the actor's full path, per connection, and most
    // connections never log.
    private ILoggingAdapter? _logger;
    private ILoggingAdapter Log => _logger ??= Context.GetLogger();

    private Phase _phase = Phase.Idle;

    // The response being written.
    private HttpRequest? _request;
    private ResponsePlan? _plan;
    private bool _closeAfterResponse;
    private SafeFileHandle? _file;
    private long _fileNext, _fileEnd;
    private long _startedAt;
    // A ResumeReading was sent and its Received has not come yet (pull mode: one read per ask).
    private bool _readAsked;
    // The client half-closed (sent FIN): answer what it already asked, then close.
    private bool _peerClosed;
    // A streamed response: the actor writing it (watched: its end ends the stream), and whether it ended.
    private IActorRef? _streamSource;
    private bool _streamEnding;
    // The endpoint of the routed request awaiting its answer, which turns that answer into the reply.
    private IHttpEndpoint? _endpoint;

    // Write accounting: bytes handed to Akka.IO, bytes known written (up to the last ack received),
    // and the _written value at each acked write whose ack has not come back yet (oldest first).
    private long _written, _confirmed, _lastAckMark;
    private readonly Queue<long> _ackMarks = new(4);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef connection, EndPoint remote, WebServerSettings settings,
        StaticFiles files, IReadOnlyList<HttpRoute> routes) =>
        FactoryProps.Create(() => new HttpConnection(connection, remote, settings, files, routes));

    public HttpConnection(IActorRef connection, EndPoint remote, WebServerSettings settings,
        StaticFiles files, IReadOnlyList<HttpRoute> routes)
    {
        _connection = connection;
        _remote = remote as IPEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        _settings = settings;
        _files = files;
        _routes = routes;
        _decoder = new HttpRequestDecoder(settings.Limits);
    }

    private long Unconfirmed => _written - _confirmed;

    // At two chunks unconfirmed, wait for an ack before writing more (see the class comment).
    private bool OverWriteBudget => Unconfirmed >= 2L * _settings.ChunkSize;

    // No DeathWatch on the connection: Akka.IO tells its registered handler ConnectionClosed
    // (Aborted/ErrorClosed included) whenever it stops, which saves two system messages per connection.
    protected override void PreStart()
    {
        _connection.Tell(new Akka.IO.Tcp.Register(Self, keepOpenOnPeerClosed: true, useResumeWriting: false));
        AskToRead();
        _deadline = Deadline.Idle;
        _deadlineAt = TimestampAfter(_settings.IdleTimeout);
        // The first tick comes at the shortest timeout the connection may need next (its first
        // request's header or handler deadline, or the write deadline of closing): those then fall
        // after the tick and cost nothing, where an earlier deadline would re-arm the timer, a
        // second scheduler operation per connection. A tick before the deadline only re-arms.
        ArmTick(Min(Min(_settings.IdleTimeout, _settings.HeaderTimeout), Min(HandlerTimeout, _settings.WriteTimeout)));
    }

    protected override void PostStop()
    {
        _file?.Dispose();
        _decoder.Release();
    }

    // ---- Dispatch: one switch per phase, no handler table ------------------------------------

    // False: unhandled (published as UnhandledMessage; an unexpected Terminated fails the actor).
    protected override bool Receive(object message) => _phase switch
    {
        Phase.Closed => Closing(message),
        Phase.Streaming => Streaming(message),
        _ => Open(message),
    };

    /// <summary>The request cycle: Idle, AwaitingHandler and Writing share it.</summary>
    private bool Open(object message)
    {
        switch (message)
        {
            case Akka.IO.Tcp.Received received: OnReceived(received); return true;
            case WriteAck: OnWriteAck(); return true;
            case HttpReply reply: OnReply(reply); return true;
            case HttpStreamStart start: OnStreamStart(start); return true;
            case Tick: OnTick(); return true;
            // Before ConnectionEvent: PeerClosed is a ConnectionClosed.
            case Akka.IO.Tcp.PeerClosed: OnPeerClosed(); return true;
            default:
                // An endpoint's answer (e.g. the tracker registry's), made into a reply here.
                if (_phase == Phase.AwaitingHandler && _endpoint?.Translate(message) is { } answered)
                {
                    OnReply(answered);
                    return true;
                }
                return ConnectionEvent(message);
        }
    }

    private void OnReceived(Akka.IO.Tcp.Received received)
    {
        _readAsked = false;
        NetMetrics.BytesReceived.Add(received.Data.Count);
        _decoder.Feed(received.Data.ToReadOnlySpan());
        if (_phase == Phase.Idle) ProcessRequests();
    }

    private void OnPeerClosed()
    {
        _peerClosed = true;
        // Every complete request was taken already (ProcessRequests runs after each read), so when
        // idle nothing is left to answer: a partial request can never complete now.
        if (_phase == Phase.Idle) Close();
    }

    /// <summary>Answers buffered requests, in order, until one needs more bytes or is answered asynchronously.</summary>
    private void ProcessRequests()
    {
        while (_phase == Phase.Idle)
        {
            if (OverWriteBudget)
            {
                // The client is not reading our answers: take no more of its requests until it does.
                SetDeadline(Deadline.Write, _settings.WriteTimeout);
                return;
            }
            switch (_decoder.Next(out var request, out var error))
            {
                case DecodeStatus.Request:
                    _deadline = Deadline.None; // the next request's header timeout starts afresh
                    Handle(request!);
                    break;
                case DecodeStatus.Error:
                    StartResponse(null, ResponsePlan.Error(error.Status), close: true);
                    break;
                default:
                    if (_peerClosed)
                    {
                        Close();
                        return;
                    }
                    AskToRead();
                    // The header timeout runs from the first byte of a request, the idle timeout from the last answer.
                    if (!_decoder.RequestStarted) SetDeadline(Deadline.Idle, _settings.IdleTimeout);
                    else if (_deadline != Deadline.Header) SetDeadline(Deadline.Header, _settings.HeaderTimeout);
                    return;
            }
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
        _request = request;
        _phase = Phase.AwaitingHandler;
        // Only this request's endpoint may turn an answer into its reply (none for a handler actor).
        _endpoint = route.Endpoint;
        if (route.Endpoint is { } endpoint)
        {
            if (endpoint.Handle(new HttpRequestReceived(request, _remote), Self) is { } now)
            {
                // Answered at once: ProcessRequests, which called us, goes on with the next request.
                Respond(request, now);
                return;
            }
        }
        else
        {
            route.Handler!.Tell(new HttpRequestReceived(request, _remote));
        }
        SetDeadline(Deadline.Handler, HandlerTimeout);
    }

    private HttpRoute? FindRoute(string path)
    {
        foreach (var route in _routes)
            if (path.StartsWith(route.PathPrefix, StringComparison.Ordinal))
                return route;
        return null;
    }

    private void OnReply(HttpReply reply)
    {
        if (_phase != Phase.AwaitingHandler || _request is null) return; // late, after a 503
        Respond(_request, reply);
        if (_phase == Phase.Idle) ProcessRequests();
    }

    private void Respond(HttpRequest request, HttpReply reply)
    {
        var plan = ResponsePlan.Bytes(reply.Status, reply.ContentType, reply.Body, request.Method != "HEAD");
        foreach (var (name, value) in reply.Headers ?? [])
            plan.Head.Header(name, value);
        StartResponse(request, plan, close: !request.KeepAlive);
    }

    // ---- Closing and events common to every state ------------------------------------------

    // Close and Abort only change the phase: the dispatch sends what follows to Closing.
    private void Close()
    {
        _phase = Phase.Closed;
        _connection.Tell(Akka.IO.Tcp.Close.Instance);
        // Akka.IO writes what it holds before closing; a client that reads none of it is cut off.
        SetDeadline(Deadline.Write, _settings.WriteTimeout);
    }

    private void Abort()
    {
        _phase = Phase.Closed;
        _file?.Dispose();
        _file = null;
        _connection.Tell(Akka.IO.Tcp.Abort.Instance);
    }

    /// <summary>Closed: wait for Akka.IO to confirm (or the write deadline); everything else is dropped.</summary>
    private bool Closing(object message)
    {
        switch (message)
        {
            case Akka.IO.Tcp.ConnectionClosed:
                Context.Stop(Self);
                break;
            case Tick:
                if (RearmedBeforeDeadline()) break;
                _connection.Tell(Akka.IO.Tcp.Abort.Instance);
                Context.Stop(Self);
                break;
        }
        return true; // a late reply, read or a stream source's Terminated: nothing left to do with it
    }

    /// <summary>What every open phase does when Akka.IO closes the connection or refuses a command.</summary>
    private bool ConnectionEvent(object message)
    {
        switch (message)
        {
            case Akka.IO.Tcp.ConnectionClosed:
                Context.Stop(Self);
                return true;
            case Akka.IO.Tcp.CommandFailed failed:
                Log.Debug("{0}: {1}; closing", Endpoints.Format(_remote), failed.CauseString);
                Context.Stop(Self);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Asks Akka.IO for the next read, once: a second ask before its Received would change nothing.</summary>
    private void AskToRead()
    {
        if (_readAsked) return;
        _readAsked = true;
        _connection.Tell(Akka.IO.Tcp.ResumeReading.Instance);
    }
}
