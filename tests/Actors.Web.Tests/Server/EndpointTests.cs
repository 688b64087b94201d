using System.Text;
using Actors.Web.Server;
using Akka.Actor;
using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>
/// Requests handled by an <see cref="IHttpEndpoint"/> on the connection's own actor (the tracker's
/// way): a reply at once (pipelined requests too, in order), a request sent on to an actor whose
/// answer the endpoint turns into the reply, and an answer the endpoint does not know, which must
/// not become a reply; nor may the endpoint of an earlier request translate an answer meant for a
/// handler actor's request.
/// </summary>
public sealed class EndpointTests : WebServerHarness
{
    private sealed record Doubled(int Value);

    /// <summary>Doubles the number it is sent, answering the sender.</summary>
    private sealed class Doubler : ReceiveActor
    {
        public Doubler() => Receive<int>(n => Sender.Tell(n < 0 ? "not ours" : new Doubled(2 * n)));
    }

    /// <summary>"/calc/now/N" answers N at once; "/calc/double/N" asks the doubler and answers its result.</summary>
    private sealed class Calc(IActorRef doubler) : IHttpEndpoint
    {
        public HttpReply? Handle(HttpRequestReceived request, IActorRef connection)
        {
            var parts = request.Request.Path.Split('/');
            if (parts[2] == "now") return Text(parts[3]);
            doubler.Tell(int.Parse(parts[3]), connection);
            return null;
        }

        public HttpReply? Translate(object answer) => answer is Doubled d ? Text(d.Value.ToString()) : null;

        private static HttpReply Text(string body) => new(200, "text/plain", Encoding.ASCII.GetBytes(body));
    }

    /// <summary>
    /// A handler actor (no endpoint) that first sends the connection a message the previous
    /// request's endpoint would translate (a stray <see cref="Doubled"/>), then its own reply.
    /// </summary>
    private sealed class StrayThenReply : ReceiveActor
    {
        public StrayThenReply() => Receive<HttpRequestReceived>(_ =>
        {
            Sender.Tell(new Doubled(99));
            Sender.Tell(new HttpReply(200, "text/plain", Encoding.ASCII.GetBytes("from the handler")));
        });
    }

    private async Task<int> Start() =>
        await StartServer(routes:
        [
            new HttpRoute("/calc/", new Calc(Sys.ActorOf(Props.Create(() => new Doubler())))),
            new HttpRoute("/actor/", Sys.ActorOf(Props.Create(() => new StrayThenReply()))),
        ]);

    [Fact]
    public async Task Pipelined_requests_answered_at_once_come_back_in_order_on_one_connection()
    {
        var port = await Start();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        var requests = string.Concat(Enumerable.Range(1, 50).Select(i => $"GET /calc/now/{i} HTTP/1.1\r\nHost: x\r\n\r\n"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requests));
        var responses = await ReadResponses(stream, 50);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => i.ToString()), responses.Select(r => Encoding.ASCII.GetString(r.Body)));
        Assert.All(responses, r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public async Task An_answer_from_another_actor_becomes_the_reply_through_the_endpoint()
    {
        var port = await Start();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        for (var i = 1; i <= 3; i++)
        {
            var response = await GetKeptAlive(stream, $"/calc/double/{i}");
            Assert.Equal((2 * i).ToString(), Encoding.ASCII.GetString(response.Body));
            Assert.True(response.KeepAlive);
        }
        var closing = await SendAndReadToClose(port, "GET /calc/double/21 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", closing);
        Assert.EndsWith("\r\n\r\n42", closing);
    }

    [Fact]
    public async Task An_answer_the_endpoint_does_not_know_is_not_taken_for_a_reply()
    {
        var port = await Start();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        // The doubler answers -1 with a string the endpoint does not translate: no response may come for it.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET /calc/double/-1 HTTP/1.1\r\nHost: x\r\n\r\n"));
        var buffer = new byte[256];
        var read = stream.ReadAsync(buffer).AsTask();
        Assert.NotSame(read, await Task.WhenAny(read, Task.Delay(TimeSpan.FromMilliseconds(700))));
    }

    [Fact]
    public async Task Only_the_awaiting_requests_endpoint_turns_an_answer_into_its_reply()
    {
        var port = await Start();
        using var tcp = await Connect(port);
        var stream = tcp.GetStream();
        Assert.Equal("2", Encoding.ASCII.GetString((await GetKeptAlive(stream, "/calc/double/1")).Body));
        // The next request goes to a handler actor; the stray Doubled it sends first is not its reply
        // (the endpoint of the request before must not translate it into "99").
        Assert.Equal("from the handler", Encoding.ASCII.GetString((await GetKeptAlive(stream, "/actor/x")).Body));
    }
}
