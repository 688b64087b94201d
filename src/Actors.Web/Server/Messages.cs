using System.Net;
using Actors.Web.Http;

namespace Actors.Web.Server;

/// <summary>
/// A request the connection hands to a routed handler actor (e.g. the tracker's <c>/announce</c>).
/// The handler answers the sender with an <see cref="HttpReply"/>.
/// </summary>
public sealed record HttpRequestReceived(HttpRequest Request, IPEndPoint Remote);

/// <summary>A complete, in-memory response from a handler actor.</summary>
public sealed record HttpReply(int Status, string ContentType, byte[] Body, IReadOnlyList<KeyValuePair<string, string>>? Headers = null);

/// <summary>Routes requests whose path starts with <paramref name="PathPrefix"/> to <paramref name="Handler"/>.</summary>
public sealed record HttpRoute(string PathPrefix, Akka.Actor.IActorRef Handler);
