using System.Text;
using Actors.Lab.Events;
using Actors.Lab.Status;
using Actors.Web.Server;
using Akka.Actor;

namespace Actors.Lab.Api;

/// <summary>
/// One Server-Sent Events client (<c>GET /api/events</c>): the event log's backlog and then every
/// new event (<c>event: lab</c>), and, unless <c>?status=off</c>, the cluster status every second
/// (<c>event: status</c>). Writes are paced by the connection's acks: at most one chunk is in
/// flight, and what accumulates meanwhile goes out as one chunk. A client that falls more than
/// <see cref="MaxPendingBytes"/> behind is cut off (it can reconnect; EventSource does).
/// </summary>
public sealed class SseStream : ReceiveActor, IWithTimers
{
    public const int MaxPendingBytes = 1 << 20;

    private sealed class StatusTick { public static readonly StatusTick Instance = new(); }
    private sealed class KeepAlive { public static readonly KeepAlive Instance = new(); }

    private readonly IActorRef _events;
    private readonly IActorRef _status;
    private readonly StringBuilder _pending = new();
    private IActorRef _connection = ActorRefs.Nobody;
    private bool _canWrite;
    private bool _statusAsked;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef events, IActorRef status) => Akka.Actor.Props.Create(() => new SseStream(events, status));

    public SseStream(IActorRef events, IActorRef status)
    {
        _events = events;
        _status = status;
        Receive<HttpRequestReceived>(OnRequest);
    }

    private void OnRequest(HttpRequestReceived request)
    {
        _connection = Sender;
        Context.Watch(_connection);
        var query = Query.Parse(request.Request.Query);
        var backlog = int.TryParse(query.GetValueOrDefault("backlog"), out var n) ? Math.Clamp(n, 0, 1000) : 100;
        _connection.Tell(new HttpStreamStart(200, "text/event-stream; charset=utf-8",
            [new("Cache-Control", "no-cache"), new("X-Accel-Buffering", "no")]));
        // Ask EventSource to reconnect after 2 s if we are cut off.
        _pending.Append("retry: 2000\n\n");
        _events.Tell(new SubscribeEvents(Self, backlog));
        if (query.GetValueOrDefault("status") != "off")
        {
            Timers.StartPeriodicTimer(StatusTick.Instance, StatusTick.Instance, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        }
        Timers.StartPeriodicTimer(KeepAlive.Instance, KeepAlive.Instance, TimeSpan.FromSeconds(15));
        Become(Streaming);
    }

    private void Streaming()
    {
        Receive<LabEvent>(e => Enqueue("lab", e.Seq.ToString(), LabJson.Text(e)));
        Receive<StatusTick>(_ =>
        {
            if (_statusAsked) return; // the previous one is still on its way: skip, never queue up
            _statusAsked = true;
            _status.Tell(GetStatus.Instance);
        });
        Receive<StatusSnapshot>(s => { _statusAsked = false; Enqueue("status", null, LabJson.Text(s)); });
        Receive<KeepAlive>(_ => { _pending.Append(": keep-alive\n\n"); Flush(); });
        Receive<HttpStreamChunkWritten>(_ => { _canWrite = true; Flush(); });
        Receive<Terminated>(_ => Context.Stop(Self));
    }

    private void Enqueue(string eventName, string? id, string json)
    {
        _pending.Append("event: ").Append(eventName).Append('\n');
        if (id is not null) _pending.Append("id: ").Append(id).Append('\n');
        _pending.Append("data: ").Append(json).Append("\n\n"); // JSON has no raw newlines
        if (_pending.Length > MaxPendingBytes)
        {
            _connection.Tell(HttpStreamEnd.Instance);
            Context.Stop(Self);
            return;
        }
        Flush();
    }

    private void Flush()
    {
        if (!_canWrite || _pending.Length == 0) return;
        _canWrite = false;
        _connection.Tell(new HttpStreamChunk(Encoding.UTF8.GetBytes(_pending.ToString())));
        _pending.Clear();
    }
}
