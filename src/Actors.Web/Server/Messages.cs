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

/// <summary>
/// Routes requests whose path starts with <paramref name="PathPrefix"/> to a handler actor
/// (<paramref name="Handler"/>, which answers the connection with an <see cref="HttpReply"/> or
/// <see cref="HttpStreamStart"/>) or to an <paramref name="Endpoint"/> run by the connection itself.
/// </summary>
public sealed record HttpRoute(string PathPrefix, Akka.Actor.IActorRef? Handler, IHttpEndpoint? Endpoint = null)
{
    public HttpRoute(string pathPrefix, IHttpEndpoint endpoint) : this(pathPrefix, null, endpoint) { }
}

/// <summary>
/// A route's handler that runs on the connection's own actor, for requests that need no state of
/// their own on the way (the tracker's announces: parse, ask the actor that owns the swarms, encode
/// its answer). With a connection per request a handler actor in between costs two hops per request
/// and answers every connection from one thread; an endpoint costs neither. Stateless: one instance
/// serves every connection, concurrently.
/// </summary>
public interface IHttpEndpoint
{
    /// <summary>
    /// The reply at once, or null when the request went on to another actor with
    /// <paramref name="connection"/> as the sender: its answer then comes to the connection, which
    /// gives it to <see cref="Translate"/> (and answers 503 if none comes within the handler timeout).
    /// </summary>
    HttpReply? Handle(HttpRequestReceived request, Akka.Actor.IActorRef connection);

    /// <summary>The reply for an answer that came for a pending request; null when it is not one of this endpoint's answers.</summary>
    HttpReply? Translate(object answer);
}

/// <summary>
/// A handler's answer that starts a streamed response (e.g. Server-Sent Events): the head goes out
/// at once, without Content-Length, and the connection closes when the stream ends. The sender of
/// this message becomes the stream's source: it sends <see cref="HttpStreamChunk"/>s, one at a time,
/// each after the <see cref="HttpStreamChunkWritten"/> of the previous one (so nothing buffers
/// without bound), and <see cref="HttpStreamEnd"/> or its own stop ends the response.
/// </summary>
public sealed record HttpStreamStart(int Status, string ContentType, IReadOnlyList<KeyValuePair<string, string>>? Headers = null);

/// <summary>The next piece of a streamed body.</summary>
public sealed record HttpStreamChunk(byte[] Data);

/// <summary>The connection wrote the previous chunk to the socket: the source may send the next one.</summary>
public sealed class HttpStreamChunkWritten { public static readonly HttpStreamChunkWritten Instance = new(); private HttpStreamChunkWritten() { } }

/// <summary>The source has nothing more to send: the connection closes after the last chunk.</summary>
public sealed class HttpStreamEnd { public static readonly HttpStreamEnd Instance = new(); private HttpStreamEnd() { } }
