using Akka.Actor;
using Akka.Event;

namespace Actors.Lab.Events;

/// <summary>
/// The lab's event log (<c>events</c>): keeps the last <c>capacity</c> events in a ring and
/// pushes each new one to its subscribers (the SSE streams), which it watches. Every event is
/// also written to the lab's own log.
/// </summary>
public sealed class EventLog : ReceiveActor
{
    private readonly int _capacity;
    private readonly LinkedList<LabEvent> _events = new();
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _seq;

    public static Props Props(int capacity = 1000) => Akka.Actor.Props.Create(() => new EventLog(capacity));

    public EventLog(int capacity)
    {
        _capacity = capacity;
        Receive<RecordEvent>(OnRecord);
        Receive<SubscribeEvents>(OnSubscribe);
        Receive<UnsubscribeEvents>(u => { _subscribers.Remove(u.Subscriber); Context.Unwatch(u.Subscriber); });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<GetRecentEvents>(g => Sender.Tell(new RecentEvents(Last(g.Count))));
    }

    private void OnRecord(RecordEvent record)
    {
        var e = new LabEvent(++_seq, record.UnixMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), record.Node, record.Kind, record.Text);
        _events.AddLast(e);
        if (_events.Count > _capacity) _events.RemoveFirst();
        _log.Info("[{0}] {1}: {2}", e.Kind, e.Node, e.Text);
        foreach (var subscriber in _subscribers) subscriber.Tell(e);
    }

    private void OnSubscribe(SubscribeEvents subscribe)
    {
        foreach (var e in Last(subscribe.Backlog)) subscribe.Subscriber.Tell(e);
        _subscribers.Add(subscribe.Subscriber);
        Context.Watch(subscribe.Subscriber);
    }

    private List<LabEvent> Last(int count) => _events.Skip(Math.Max(0, _events.Count - count)).ToList();
}
