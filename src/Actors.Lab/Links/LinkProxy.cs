using System.Net;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Lab.Links;

/// <summary>
/// One link: binds its listen endpoint through Akka.IO and gives every accepted connection a
/// <see cref="LinkConnection"/> child that connects it to the target. Holds the link's toxics and
/// passes every change to the live connections at once. Started and stopped by the
/// <see cref="LinkManager"/>, which it tells <see cref="Started"/> or <see cref="StartFailed"/>.
/// </summary>
public sealed class LinkProxy : ReceiveActor
{
    /// <summary>To the parent once bound, with the endpoint actually bound.</summary>
    public sealed record Started(string Name, EndPoint Listen);
    /// <summary>To the parent when the bind failed; the proxy stops.</summary>
    public sealed record StartFailed(string Name, string Reason);
    /// <summary>From the parent: the link's toxics now.</summary>
    public sealed record SetToxics(IReadOnlyList<Toxic> Toxics);

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

    protected override void PostStop() => _listener.Tell(Tcp.Unbind.Instance);

    // A failing connection actor is stopped (its PostStop resets both sockets); the link carries on.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(ex =>
        {
            _log.Warning(ex, "Link {0}: a connection actor failed; resetting that connection only", _name);
            return Directive.Stop;
        });

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
        Receive<SetToxics>(set => _toxics = set.Toxics);
    }

    private void Bound()
    {
        Receive<Tcp.Connected>(connected =>
            Context.ActorOf(LinkConnection.Props(Sender, connected.RemoteAddress, _target, _settings, _toxics, _counters)));
        Receive<UnhandledMessage>(_ => { }); // published before the bind's watch ended; its accepts are back already
        Receive<SetToxics>(set =>
        {
            _toxics = set.Toxics;
            var changed = new LinkConnection.ToxicsChanged(_toxics);
            foreach (var child in Context.GetChildren()) child.Tell(changed);
        });
    }
}
