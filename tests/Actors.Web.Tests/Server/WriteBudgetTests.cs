using System.Net;
using System.Text;
using Actors.Web.Http;
using Actors.Web.Server;
using Akka.Actor;
using Akka.IO;
using Akka.TestKit;
using Xunit;

namespace Actors.Web.Tests.Server;

/// <summary>
/// The connection actor against a probe standing in for Akka.IO's connection, so every Write, ack
/// and read asked for is visible: small answers go out without acks, reads are asked for only when
/// a request needs more bytes (Akka.IO's pull mode), yet a client that does not read costs at most
/// two chunks (plus one answer) of unacknowledged bytes.
/// </summary>
public sealed class WriteBudgetTests : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private const int ChunkSize = 4096;
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("actors-web-budget-");

    public WriteBudgetTests() : base("akka.loglevel = WARNING") { }

    private static WebServerSettings Settings(string root, TimeSpan? writeTimeout = null) => new(
        Host: "127.0.0.1", Port: 0, Root: root, MaxConnections: 10,
        Limits: new HttpLimits(MaxRequestLineBytes: 1024, MaxHeaderBytes: 4096, MaxHeaderCount: 50, MaxBodyBytes: 64 * 1024),
        HeaderTimeout: TimeSpan.FromSeconds(5), IdleTimeout: TimeSpan.FromSeconds(30),
        WriteTimeout: writeTimeout ?? TimeSpan.FromSeconds(30), ChunkSize: ChunkSize, DirectoryListing: false, AccessLog: false);

    private (TestProbe Connection, IActorRef Handler) Start(TimeSpan? writeTimeout = null)
    {
        var connection = CreateTestProbe();
        var settings = Settings(_root.FullName, writeTimeout);
        var handler = Sys.ActorOf(HttpConnection.Props(connection.Ref, new IPEndPoint(IPAddress.Loopback, 40000), settings,
            new StaticFiles(new DocumentRoot(_root.FullName), directoryListing: false), []));
        connection.ExpectMsg<Tcp.Register>();
        // Pull mode: nothing is read until the connection asks for its first bytes.
        connection.ExpectMsg<Tcp.ResumeReading>();
        return (connection, handler);
    }

    private static Tcp.Received Requests(int count, string path, string headers = "") =>
        new(ByteString.FromBytes(Encoding.ASCII.GetBytes(
            string.Concat(Enumerable.Repeat($"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n", count)))));

    /// <summary>The next message (waited for generously: the machine may be busy) and all that follow it within 300 ms.</summary>
    private static List<object> Drain(TestProbe probe)
    {
        var first = probe.ExpectMsg<object>(TimeSpan.FromSeconds(10));
        return [first, .. probe.ReceiveWhile<object>(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300), m => m)];
    }

    [Fact]
    public void A_small_answer_is_one_write_without_an_ack_and_then_the_next_request_is_read()
    {
        File.WriteAllBytes(Path.Combine(_root.FullName, "small.html"), new byte[1024]);
        var (connection, handler) = Start();

        handler.Tell(Requests(1, "/small.html"), connection.Ref);

        var messages = Drain(connection);
        Assert.Equal(2, messages.Count);
        var write = Assert.IsType<Tcp.Write>(messages[0]);
        Assert.False(write.WantsAck);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(write.Data.ToArray()));
        Assert.IsType<Tcp.ResumeReading>(messages[1]);
    }

    [Fact]
    public void An_answer_that_closes_the_connection_asks_for_no_further_read()
    {
        // A read asked for after the last request would cost a receive that can only fail, its
        // registration with epoll and, at close, an aborted completion on another thread.
        File.WriteAllBytes(Path.Combine(_root.FullName, "small.html"), new byte[1024]);
        var (connection, handler) = Start();

        handler.Tell(Requests(1, "/small.html", "Connection: close\r\n"), connection.Ref);

        var messages = Drain(connection);
        Assert.Equal(2, messages.Count);
        Assert.IsType<Tcp.Write>(messages[0]);
        Assert.IsType<Tcp.Close>(messages[1]);
    }

    [Fact]
    public void A_request_split_over_reads_asks_for_each_next_read_once()
    {
        File.WriteAllBytes(Path.Combine(_root.FullName, "small.html"), new byte[1024]);
        var (connection, handler) = Start();

        handler.Tell(new Tcp.Received(ByteString.FromBytes(Encoding.ASCII.GetBytes("GET /small.html HT"))), connection.Ref);
        Assert.IsType<Tcp.ResumeReading>(Assert.Single(Drain(connection)));
        handler.Tell(new Tcp.Received(ByteString.FromBytes(Encoding.ASCII.GetBytes("TP/1.1\r\nHost: x\r\n\r\n"))), connection.Ref);

        var messages = Drain(connection);
        Assert.IsType<Tcp.Write>(messages[0]);
        Assert.IsType<Tcp.ResumeReading>(Assert.Single(messages.Skip(1)));
    }

    [Fact]
    public void A_client_that_pipelines_and_never_reads_costs_at_most_two_chunks_until_acks_come()
    {
        File.WriteAllBytes(Path.Combine(_root.FullName, "small.html"), new byte[1024]);
        var (connection, handler) = Start();
        const int requests = 60; // ~1.2 KB answers: far more than two 4 KiB chunks

        handler.Tell(Requests(requests, "/small.html"), connection.Ref);

        var first = Drain(connection);
        var writes = first.OfType<Tcp.Write>().ToList();
        var answer = writes[0].Data.Count;
        var unacknowledged = writes.Sum(w => (long)w.Data.Count);
        Assert.True(unacknowledged <= 2 * ChunkSize + answer, $"{unacknowledged} bytes written without any ack back");
        Assert.True(writes.Count < requests, "every answer was written although the client read none");
        // Nothing more is read from a client that does not read our answers.
        Assert.DoesNotContain(first, m => m is Tcp.ResumeReading);
        Assert.Contains(writes, w => w.WantsAck);

        // As the client reads (acks come back), the rest is answered, still in bounded steps.
        var answered = writes.Count;
        var pending = new Queue<object>(writes.Where(w => w.WantsAck).Select(w => w.Ack));
        for (var round = 0; round < 100 && answered < requests; round++)
        {
            Assert.True(pending.Count > 0, $"stalled after {answered} answers with no ack outstanding");
            handler.Tell(pending.Dequeue(), connection.Ref);
            var more = Drain(connection).OfType<Tcp.Write>().ToList();
            Assert.True(more.Sum(w => (long)w.Data.Count) <= 2 * ChunkSize + answer);
            answered += more.Count;
            foreach (var w in more.Where(w => w.WantsAck)) pending.Enqueue(w.Ack);
        }
        Assert.Equal(requests, answered);
    }

    [Fact]
    public void A_large_file_is_streamed_two_chunks_at_a_time_and_a_client_that_stops_reading_is_aborted()
    {
        File.WriteAllBytes(Path.Combine(_root.FullName, "large.bin"), new byte[64 * ChunkSize]);
        var (connection, handler) = Start(writeTimeout: TimeSpan.FromSeconds(1));

        handler.Tell(Requests(1, "/large.bin"), connection.Ref);

        var drained = Drain(connection);
        var writes = drained.OfType<Tcp.Write>().ToList();
        Assert.True(writes.Count == 2, string.Join(", ", drained));
        Assert.All(writes, w => Assert.True(w.WantsAck));
        Assert.True(writes.Sum(w => (long)w.Data.Count) <= 2 * ChunkSize + 512);

        // One ack lets exactly one more chunk go.
        handler.Tell(writes[0].Ack, connection.Ref);
        Assert.Single(Drain(connection).OfType<Tcp.Write>());

        // Then nothing more is acknowledged: the write timeout aborts the connection.
        connection.FishForMessage(m => m is Tcp.Abort, TimeSpan.FromSeconds(5));
    }

    public new void Dispose()
    {
        base.Dispose();
        _root.Delete(recursive: true);
    }
}
