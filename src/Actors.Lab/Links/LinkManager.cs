using System.Net;
using System.Text.RegularExpressions;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace Actors.Lab.Links;

/// <summary>
/// Holds the node's named links: starts and stops a <see cref="LinkProxy"/> per link, keeps each
/// link's toxics (the truth the proxies follow) and answers the requests of <c>Messages.cs</c>,
/// each with exactly one reply. Publishes <see cref="LinkChanged"/> on the EventStream.
/// </summary>
public sealed partial class LinkManager : ReceiveActor
{
    /// <summary>A link defined in configuration or by <see cref="AddLink"/>, with its toxics at start.</summary>
    public sealed record LinkDefinition(string Name, string Listen, string Target, IReadOnlyList<Toxic> Toxics);

    private sealed class Link(string name, string listen, string target, IActorRef proxy, LinkCounters counters)
    {
        public readonly string Name = name;
        public string Listen = listen;
        public readonly string Target = target;
        public readonly IActorRef Proxy = proxy;
        public readonly LinkCounters Counters = counters;
        public List<Toxic> Toxics = [];
        public bool Started;
        public IActorRef Requester = ActorRefs.Nobody;

        public LinkStatus Status() => new(Name, Listen, Target, Toxics.ToList(), Counters.Open, Counters.Accepted,
            Counters.BytesUpstream, Counters.BytesDownstream, Counters.Buffered);
    }

    private readonly LinkProxySettings _settings;
    private readonly IReadOnlyList<LinkDefinition> _initial;
    private readonly Dictionary<string, Link> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, Link> _byProxy = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _generation;

    /// <summary>A manager with the links and settings of <c>actors.lab.links</c> and <c>actors.lab.link-proxy</c>; a bad entry throws <c>SettingsException</c> naming its key.</summary>
    public static Props Props(Config config) =>
        Props(LinkConfig.ReadLinks(config), LinkProxySettings.From(config));

    public static Props Props(IReadOnlyList<LinkDefinition>? links = null, LinkProxySettings? settings = null)
    {
        var initial = links ?? [];
        var proxySettings = settings ?? LinkProxySettings.Default;
        return Akka.Actor.Props.Create(() => new LinkManager(initial, proxySettings));
    }

    public LinkManager(IReadOnlyList<LinkDefinition> initial, LinkProxySettings settings)
    {
        _initial = initial;
        _settings = settings;
        Receive<AddLink>(add => Add(add.Name, add.Listen, add.Target, [], Sender));
        Receive<RemoveLink>(Remove);
        Receive<ListLinks>(_ => Sender.Tell(List()));
        Receive<GetLink>(get => WithLink(get.Name, link => Sender.Tell(link.Status())));
        Receive<AddToxic>(AddToxicTo);
        Receive<RemoveToxic>(RemoveToxicFrom);
        Receive<ClearToxics>(clear => WithLink(clear.Link, link => ChangeToxics(link, [], "toxics cleared")));
        Receive<ResetLinks>(_ =>
        {
            foreach (var link in _links.Values.Where(l => l.Toxics.Count > 0)) ChangeToxics(link, [], "toxics cleared", reply: false);
            Sender.Tell(List());
        });
        Receive<LinkProxy.Started>(Started);
        Receive<LinkProxy.StartFailed>(StartFailed);
        Receive<Terminated>(ProxyStopped);
    }

    protected override void PreStart()
    {
        foreach (var link in _initial)
            Add(link.Name, link.Listen, link.Target, link.Toxics, ActorRefs.Nobody);
    }

    // A proxy that throws is stopped; its link is dropped and reported, the others carry on.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
    {
        _log.Warning(ex, "A link proxy failed; removing that link");
        return Directive.Stop;
    });

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NameFormat();

    private void Add(string name, string listenText, string targetText, IReadOnlyList<Toxic> toxics, IActorRef requester)
    {
        if (!NameFormat().IsMatch(name ?? ""))
        {
            Reply(requester, new LinkError(name ?? "", "a link name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"));
            return;
        }
        if (_links.ContainsKey(name!))
        {
            Reply(requester, new LinkError(name!, $"link {name} exists already (remove it first)"));
            return;
        }
        EndPoint listen, target;
        try
        {
            var (lh, lp) = ParseEndpoint(listenText, allowPortZero: true);
            var (th, tp) = ParseEndpoint(targetText, allowPortZero: false);
            listen = Endpoints.Parse(lh, lp);
            target = Endpoints.Parse(th, tp);
        }
        catch (FormatException e)
        {
            Reply(requester, new LinkError(name!, e.Message));
            return;
        }
        // The generation keeps actor names unique while a removed link's proxy is still stopping.
        var counters = new LinkCounters();
        var proxy = Context.ActorOf(LinkProxy.Props(name!, listen, target, _settings, toxics.ToList(), counters), $"link-{name}-{++_generation}");
        var link = new Link(name!, listenText, targetText, proxy, counters) { Toxics = toxics.ToList(), Requester = requester };
        _links[name!] = link;
        _byProxy[proxy] = link;
        Context.Watch(proxy);
    }

    private static (string Host, int Port) ParseEndpoint(string text, bool allowPortZero)
    {
        if (allowPortZero && text is not null && text.EndsWith(":0", StringComparison.Ordinal) && text.Length > 2)
            return (text[..^2].Trim('[', ']'), 0);
        return Endpoints.ParseHostPort(text ?? "");
    }

    private void Started(LinkProxy.Started started)
    {
        if (!_byProxy.TryGetValue(Sender, out var link)) return;
        link.Started = true;
        link.Listen = Endpoints.Format(started.Listen);
        Reply(link.Requester, link.Status());
        link.Requester = ActorRefs.Nobody;
        Publish(link, "added");
    }

    private void StartFailed(LinkProxy.StartFailed failed)
    {
        if (!_byProxy.TryGetValue(Sender, out var link)) return;
        _log.Warning("Link {0}: {1}", link.Name, failed.Reason);
        Reply(link.Requester, new LinkError(link.Name, failed.Reason));
        link.Requester = ActorRefs.Nobody;
        Forget(link);
    }

    private void ProxyStopped(Terminated terminated)
    {
        if (!_byProxy.TryGetValue(terminated.ActorRef, out var link)) return;
        Reply(link.Requester, new LinkError(link.Name, "the link's proxy stopped before it was listening"));
        _log.Warning("Link {0}: its proxy stopped", link.Name);
        Forget(link);
        Publish(link, "removed");
    }

    private void Remove(RemoveLink remove) => WithLink(remove.Name, link =>
    {
        Context.Unwatch(link.Proxy);
        Context.Stop(link.Proxy);
        Reply(link.Requester, new LinkError(link.Name, "removed before it was listening"));
        Forget(link);
        Sender.Tell(new LinkRemoved(link.Name));
        Publish(link, "removed");
    });

    private void AddToxicTo(AddToxic add) => WithLink(add.Link, link =>
    {
        if (add.Toxic is null || string.IsNullOrWhiteSpace(add.Toxic.Name) || add.Toxic.Kind is null
            || double.IsNaN(add.Toxic.Toxicity) || add.Toxic.Toxicity is < 0 or > 1)
        {
            Sender.Tell(new LinkError(link.Name, "a toxic needs a name, a kind and a toxicity between 0 and 1"));
            return;
        }
        var toxics = link.Toxics.Where(t => t.Name != add.Toxic.Name).Append(add.Toxic).ToList();
        ChangeToxics(link, toxics, $"toxic added: {add.Toxic}");
    });

    private void RemoveToxicFrom(RemoveToxic remove) => WithLink(remove.Link, link =>
    {
        if (link.Toxics.All(t => t.Name != remove.ToxicName))
        {
            Sender.Tell(new LinkError(link.Name, $"link {link.Name} has no toxic {remove.ToxicName} (it has: {string.Join(", ", link.Toxics.Select(t => t.Name))})"));
            return;
        }
        ChangeToxics(link, link.Toxics.Where(t => t.Name != remove.ToxicName).ToList(), $"toxic removed: {remove.ToxicName}");
    });

    private void ChangeToxics(Link link, List<Toxic> toxics, string change, bool reply = true)
    {
        link.Toxics = toxics;
        // Answered by the proxy once the link's open connections have the change in force.
        link.Proxy.Tell(new LinkProxy.SetToxics(toxics.ToList(), reply ? Sender : null, reply ? link.Status() : null));
        Publish(link, change);
    }

    private void WithLink(string name, Action<Link> action)
    {
        if (name is not null && _links.TryGetValue(name, out var link)) action(link);
        else Sender.Tell(new LinkError(name ?? "", $"no link named {name} (links: {string.Join(", ", _links.Keys.Order())})"));
    }

    private LinkList List() => new(_links.Values.OrderBy(l => l.Name, StringComparer.Ordinal).Select(l => l.Status()).ToList());

    private void Forget(Link link)
    {
        _links.Remove(link.Name);
        _byProxy.Remove(link.Proxy);
    }

    private void Publish(Link link, string change) =>
        Context.System.EventStream.Publish(new LinkChanged(link.Name, change, link.Toxics.ToList()));

    private static void Reply(IActorRef requester, object message)
    {
        if (!requester.IsNobody()) requester.Tell(message);
    }
}
