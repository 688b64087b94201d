using System.Text;
using Actors.Web.Server;
using Akka.Actor;
using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>
/// Requests answered by a routed handler actor: a reply, a streamed response (the Lab's
/// Server-Sent Events), and a stream whose source stops. Each phase of the connection
/// (awaiting the handler, streaming, closing) in turn.
/// </summary>
public sealed class RouteTests : WebServerHarness
{
    /// <summary>Answers "/api/hello" with a reply, "/api/stream/N" with N chunks and an end, "/api/vanish" with one chunk and a stop.</summary>
    private sealed class Handler : ReceiveActor
    {
        private int _left;
        private IActorRef _connection = ActorRefs.Nobody;

        public Handler()
        {
            Receive<HttpRequestReceived>(received =>
            {
                var path = received.Request.Path;
                if (path == "/api/hello")
                {
                    Sender.Tell(new HttpReply(200, "text/plain", Encoding.ASCII.GetBytes("hello")));
                    return;
                }
                _connection = Sender;
                _left = path.StartsWith("/api/stream/") ? int.Parse(path["/api/stream/".Length..]) : -1;
                Sender.Tell(new HttpStreamStart(200, "text/event-stream"));
            });
            // Paced by the connection: the next chunk only after the previous one was written.
            Receive<HttpStreamChunkWritten>(_ =>
            {
                if (_left == -1)
                {
                    _connection.Tell(new HttpStreamChunk(Encoding.ASCII.GetBytes("data: last\n\n")));
                    _left = -2;
                }
                else if (_left == -2) Context.Stop(Self);
                else if (_left == 0) _connection.Tell(HttpStreamEnd.Instance);
                else _connection.Tell(new HttpStreamChunk(Encoding.ASCII.GetBytes($"data: {_left--}\n\n")));
            });
        }
    }

    private async Task<int> StartWithHandler() =>
        await StartServer(routes: [new HttpRoute("/api/", Sys.ActorOf(Props.Create(() => new Handler())))]);

    [Fact]
    public async Task A_routed_request_is_answered_with_the_handlers_reply_and_keeps_the_connection()
    {
        var port = await StartWithHandler();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        for (var i = 0; i < 2; i++)
        {
            var response = await GetKeptAlive(stream, "/api/hello");
            Assert.Equal(200, response.Status);
            Assert.Equal("hello", Encoding.ASCII.GetString(response.Body));
            Assert.True(response.KeepAlive);
        }
        var closing = await SendAndReadToClose(port, "GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", closing);
        Assert.EndsWith("\r\n\r\nhello", closing);
    }

    [Fact]
    public async Task A_streamed_response_sends_every_chunk_then_closes()
    {
        var port = await StartWithHandler();
        var response = await SendAndReadToClose(port, "GET /api/stream/3 HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("Content-Type: text/event-stream", response);
        Assert.Contains("Connection: close", response);
        Assert.EndsWith("\r\n\r\ndata: 3\n\ndata: 2\n\ndata: 1\n\n", response);
    }

    [Fact]
    public async Task A_stream_whose_source_stops_ends_after_what_was_written()
    {
        var port = await StartWithHandler();
        var response = await SendAndReadToClose(port, "GET /api/vanish HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.EndsWith("\r\n\r\ndata: last\n\n", response);
    }
}
