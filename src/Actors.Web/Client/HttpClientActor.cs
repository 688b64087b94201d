using Actors.Web.Http;
using Akka.Actor;

namespace Actors.Web.Client;

/// <summary>
/// An HTTP/1.1 client on Akka.IO, on the same codec as the server. Peers use it to fetch
/// .torrent files and to announce to trackers. Each request gets a connection from a per-origin
/// pool of idle keep-alive connections (or a new one); redirects are followed up to
/// <see cref="MaxRedirects"/>; every request has an overall timeout. Only http:// URLs.
/// </summary>
public sealed class HttpClientActor : ReceiveActor, IWithTimers
{
    public const int MaxRedirects = 5;
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private sealed record Pending(IActorRef ReplyTo, Uri Original, Uri Current, int RedirectsLeft, bool Retried = false);
    private sealed record RequestTimeout(long Id);

    private readonly Dictionary<long, Pending> _pending = new();
    private readonly Dictionary<string, Stack<IActorRef>> _idle = new();
    private readonly Dictionary<IActorRef, string> _origins = new();
    private readonly Dictionary<IActorRef, long> _busy = new();
    private readonly TimeSpan _idleTimeout;
    private readonly long _maxBodyBytes;
    private long _nextId;
    private long _opened;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan? idleTimeout = null, long maxBodyBytes = 16 * 1024 * 1024) =>
        Akka.Actor.Props.Create(() => new HttpClientActor(idleTimeout ?? TimeSpan.FromSeconds(30), maxBodyBytes));

    public HttpClientActor(TimeSpan idleTimeout, long maxBodyBytes)
    {
        _idleTimeout = idleTimeout;
        _maxBodyBytes = maxBodyBytes;

        Receive<HttpGet>(get =>
        {
            var id = ++_nextId;
            _pending[id] = new Pending(Sender, get.Url, get.Url, MaxRedirects);
            Timers.StartSingleTimer(id, new RequestTimeout(id), get.Timeout ?? DefaultTimeout);
            Start(id, get.Url);
        });
        Receive<HttpClientConnection.Fetched>(Fetched);
        Receive<HttpClientConnection.FetchFailed>(failed =>
        {
            _busy.Remove(Sender);
            Finish(failed.Id, p => new HttpGetFailed(p.Original, failed.Reason));
        });
        Receive<RequestTimeout>(timeout => Finish(timeout.Id, p => new HttpGetFailed(p.Original, $"no response from {p.Current} in time")));
        Receive<Terminated>(t => Forget(t.ActorRef));
        Receive<GetHttpClientStats>(_ => Sender.Tell(new HttpClientStats(_opened, _idle.Values.Sum(s => s.Count))));
    }

    // A connection that fails only affects its own request; the client carries on.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private void Start(long id, Uri url)
    {
        if (!url.IsAbsoluteUri || url.Scheme != Uri.UriSchemeHttp)
        {
            Finish(id, p => new HttpGetFailed(p.Original, $"only http:// URLs are supported, not {url}"));
            return;
        }
        var origin = $"{url.IdnHost}:{url.Port}";
        var fetch = new HttpClientConnection.Fetch(id, url);
        if (_idle.TryGetValue(origin, out var idle) && idle.Count > 0)
        {
            var reused = idle.Pop();
            _busy[reused] = id;
            reused.Tell(fetch);
            return;
        }
        var host = url.HostNameType == UriHostNameType.IPv6 ? url.IdnHost.Trim('[', ']') : url.IdnHost;
        var connection = Context.ActorOf(HttpClientConnection.Props(host, url.Port, fetch, TimeSpan.FromSeconds(10), _idleTimeout, _maxBodyBytes));
        Context.Watch(connection);
        _origins[connection] = origin;
        _busy[connection] = id;
        _opened++;
    }

    private void Fetched(HttpClientConnection.Fetched fetched)
    {
        _busy.Remove(Sender);
        if (fetched.Reusable)
        {
            var origin = _origins[Sender];
            if (!_idle.TryGetValue(origin, out var idle)) _idle[origin] = idle = new Stack<IActorRef>();
            idle.Push(Sender);
        }
        if (!_pending.TryGetValue(fetched.Id, out var pending)) return; // timed out meanwhile
        var response = fetched.Response;
        var location = response.Headers.Get("Location");
        if (response.Status is 301 or 302 or 303 or 307 or 308 && location is not null)
        {
            if (pending.RedirectsLeft == 0)
            {
                Finish(fetched.Id, p => new HttpGetFailed(p.Original, $"more than {MaxRedirects} redirects"));
                return;
            }
            if (!Uri.TryCreate(pending.Current, location, out var next))
            {
                Finish(fetched.Id, p => new HttpGetFailed(p.Original, $"bad redirect location '{location}'"));
                return;
            }
            _pending[fetched.Id] = pending with { Current = next, RedirectsLeft = pending.RedirectsLeft - 1 };
            Start(fetched.Id, next);
            return;
        }
        Finish(fetched.Id, p => new HttpGetSucceeded(p.Original, response));
    }

    private void Finish(long id, Func<Pending, object> reply)
    {
        if (!_pending.Remove(id, out var pending)) return;
        Timers.Cancel(id);
        pending.ReplyTo.Tell(reply(pending));
    }

    private void Forget(IActorRef connection)
    {
        if (!_origins.Remove(connection, out var origin)) return;
        if (_idle.TryGetValue(origin, out var idle) && idle.Contains(connection))
            _idle[origin] = new Stack<IActorRef>(idle.Where(c => !c.Equals(connection)).Reverse());
        // A pooled connection can be closed by the server just as we reuse it: a GET is safe to
        // send again, once, on a fresh connection.
        if (_busy.Remove(connection, out var id) && _pending.TryGetValue(id, out var pending))
        {
            if (pending.Retried)
            {
                Finish(id, p => new HttpGetFailed(p.Original, $"connection to {p.Current} lost"));
                return;
            }
            _pending[id] = pending with { Retried = true };
            Start(id, pending.Current);
        }
    }
}
