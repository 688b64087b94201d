using Actors.Web.Server;
using Akka.Actor;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// Drives an <see cref="IHttpEndpoint"/> (the tracker's <see cref="Actors.Torrent.Tracker.TrackerHttp"/>)
/// without sockets: each <see cref="HttpRequestReceived"/> gets a child that plays the HTTP
/// connection's part for one request — it hands the request to the endpoint with itself as the
/// connection, turns the answer it gets into the reply through the endpoint, sends that reply to
/// whoever asked, and stops. The web server's own tests check the connection's side of the contract
/// (Actors.Web.Tests, EndpointTests).
/// </summary>
public sealed class EndpointConnections(IHttpEndpoint endpoint) : UntypedActor
{
    public static Props Props(IHttpEndpoint endpoint) => Akka.Actor.Props.Create(() => new EndpointConnections(endpoint));

    protected override void OnReceive(object message)
    {
        if (message is HttpRequestReceived request)
            Context.ActorOf(Akka.Actor.Props.Create(() => new OneRequest(endpoint, request, Sender)));
        else
            Unhandled(message);
    }

    private sealed class OneRequest : UntypedActor
    {
        private readonly IHttpEndpoint _endpoint;
        private readonly IActorRef _asker;

        public OneRequest(IHttpEndpoint endpoint, HttpRequestReceived request, IActorRef asker)
        {
            _endpoint = endpoint;
            _asker = asker;
            if (endpoint.Handle(request, Self) is { } now) Reply(now);
        }

        protected override void OnReceive(object message)
        {
            if (_endpoint.Translate(message) is { } reply) Reply(reply);
            else Unhandled(message);
        }

        private void Reply(HttpReply reply)
        {
            _asker.Tell(reply);
            Context.Stop(Self);
        }
    }
}
