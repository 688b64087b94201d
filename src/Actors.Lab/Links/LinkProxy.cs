using System.Net;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Lab.Links;

/// <summary>
/// One link: binds its listen endpoint through Akka.IO and gives every accepted connection a
/// <see cref="LinkConnection"/> child that connects it to the target. Holds the link's toxics and
/// passes every change to the live connections, answering the change once each of them has it in
/// force (bytes sent after the answer meet the new toxics). Started and stopped by the
/// <see cref="LinkManager"/>, which it tells <see cref="Started"/> or <see cref="StartFailed"/>.
/// </summary>
public sealed class LinkProxy : ReceiveActor, IWithTimers
{
    /// <summary>To the parent once bound, with the endpoint actually bound.</summary>
    public sealed record Started(string Name, EndPoint Listen);
    /// <summary>To the parent when the bind failed; the proxy stops.</summary>
    public sealed record StartFailed(string Name, string Reason);
    /// <summary>
    /// From the parent: the link's toxics now. <paramref name="Reply"/> goes to
    /// <paramref name="ReplyTo"/> once every live connection applied them (or after
    /// <see cref="ApplyTimeout"/>: a connection ending meanwhile never answers).
    /// </summary>
    public sealed record SetToxics(IReadOnlyList<Toxic> Toxics, IActorRef? ReplyTo = null, object? Reply = null);

    public static readonly TimeSpan ApplyTimeout = TimeSpan.FromSeconds(2);

    private sealed record PendingChange(IActorRef? ReplyTo, object? Reply, HashSet<IActorRef> Waiting);
    private sealed record ChangeTimedOut(long Change);
    private readonly Dictionary<long, PendingChange> _pending = [];
    private long _lastChange;

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly string _name;
    private readonly EndPoint _listen;
    private readonly EndPoint _target;
    private readonly LinkProxySettings _settings;
    private readonly LinkCounters _counters;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IReadOnlyList<Toxic> _toxics;
    private IActorRef _listener = ActorRefs.Nobody;
    private readonly AcceptsDroppedAtBind _droppedAccepts = new();

    public static Props Props(string name, EndPoint listen, EndPoint target, LinkProxySettings settings, IReadOnlyList<Toxic> toxics, LinkCounters counters) =>
        Akka.Actor.Props.Create(() => new LinkProxy(name, listen, target, settings, toxics, counters));

    public LinkProxy(string name, EndPoint listen, EndPoint target, LinkProxySettings settings, IReadOnlyList<Toxic> toxics, LinkCounters counters)
    {
        _name = name;
        _listen = listen;
        _target = target;
        _settings = settings;
        _toxics = toxics;
        _counters = counters;
        Binding();
    }

    // Pull mode: accepted connections start with reading suspended; each LinkConnection paces its reads.
    protected override void PreStart()
    {
        _droppedAccepts.Watch(Context);
        Context.System.Tcp().Tell(new Tcp.Bind(Self, _listen, backlog: 128, pullMode: true));
    }

    protected override void PostStop()
    {
        _listener.Tell(Tcp.Unbind.Instance);
        // A change still waiting for its connections is answered: they are going with the link.
        foreach (var pending in _pending.Values) pending.ReplyTo?.Tell(pending.Reply);
    }

    // A failing connection actor is stopped (its PostStop resets both sockets); the link carries on.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(ex =>
        {
            _log.Warning(ex, "Link {0}: a connection actor failed; resetting that connection only", _name);
            return Directive.Stop;
        });

    private void Answer(long change)
    {
        Timers.Cancel(change);
        if (_pending.Remove(change, out var pending)) pending.ReplyTo?.Tell(pending.Reply);
    }

    private void Binding()
    {
        Receive<UnhandledMessage>(unhandled => _droppedAccepts.Hold(unhandled));
        Receive<Tcp.Bound>(bound =>
        {
            _listener = Sender;
            _droppedAccepts.Release(Context, _listener);
            // In pull mode the listener accepts only after ResumeAccepting; a batch of one re-arms itself.
            _listener.Tell(new Tcp.ResumeAccepting(1));
            _log.Info("Link {0}: {1} -> {2}", _name, Endpoints.Format(bound.LocalAddress), Endpoints.Format(_target));
            Context.Parent.Tell(new Started(_name, bound.LocalAddress));
            Become(Bound);
        });
        Receive<Tcp.CommandFailed>(failed =>
        {
            _droppedAccepts.Release(Context, ActorRefs.Nobody);
            Context.Parent.Tell(new StartFailed(_name, $"cannot listen on {Endpoints.Format(_listen)}: {failed.CauseString}"));
            Context.Stop(Self);
        });
        Receive<SetToxics>(set =>
        {
            _toxics = set.Toxics; // no connection yet: in force at once
            set.ReplyTo?.Tell(set.Reply);
        });
    }

    private void Bound()
    {
        Receive<Tcp.Connected>(connected =>
            Context.ActorOf(LinkConnection.Props(Sender, connected.RemoteAddress, _target, _settings, _toxics, _counters)));
        Receive<UnhandledMessage>(_ => { }); // published before the bind's watch ended; its accepts are back already
        Receive<SetToxics>(set =>
        {
            _toxics = set.Toxics;
            var change = ++_lastChange;
            var children = Context.GetChildren().ToHashSet();
            if (children.Count == 0)
            {
                set.ReplyTo?.Tell(set.Reply);
                return;
            }
            _pending[change] = new PendingChange(set.ReplyTo, set.Reply, children);
            var changed = new LinkConnection.ToxicsChanged(_toxics, change);
            foreach (var child in children) child.Tell(changed);
            Timers.StartSingleTimer(change, new ChangeTimedOut(change), ApplyTimeout);
        });
        Receive<LinkConnection.ToxicsApplied>(applied =>
        {
            if (!_pending.TryGetValue(applied.Change, out var pending)) return;
            pending.Waiting.Remove(Sender);
            if (pending.Waiting.Count == 0) Answer(applied.Change);
        });
        Receive<ChangeTimedOut>(timedOut => Answer(timedOut.Change));
    }
}
