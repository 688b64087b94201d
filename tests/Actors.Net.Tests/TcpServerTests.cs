using System.Net;
using System.Net.Sockets;
using System.Text;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.IO;
using Xunit;

namespace Actors.Net.Tests;

public sealed class TcpServerTests : Akka.TestKit.Xunit2.TestKit
{
    public TcpServerTests() : base("akka.loglevel = WARNING") { }

    /// <summary>Echoes each line back; a line "boom" makes it throw, as a buggy handler would; "bye" closes the connection.</summary>
    private sealed class EchoOrThrow : ReceiveActor
    {
        public EchoOrThrow(IActorRef connection)
        {
            connection.Tell(new Akka.IO.Tcp.Register(Self));
            Receive<Akka.IO.Tcp.Received>(received =>
            {
                var text = received.Data.ToString(Encoding.ASCII);
                if (text.StartsWith("boom")) throw new InvalidOperationException("handler bug");
                if (text.StartsWith("fatal")) throw new Actors.Net.Supervision.FatalRoleException("storage gone");
                if (text.StartsWith("bye")) { connection.Tell(Akka.IO.Tcp.Close.Instance); return; }
                connection.Tell(Akka.IO.Tcp.Write.Create(received.Data));
            });
            Receive<Akka.IO.Tcp.ConnectionClosed>(_ => Context.Stop(Self));
        }
    }

    private async Task<(IActorRef Server, int Port)> StartServer(int maxConnections = 100)
    {
        var server = Sys.ActorOf(TcpServer.Props(new TcpServerSettings("127.0.0.1", 0, maxConnections),
            (connection, _, _) => Props.Create(() => new EchoOrThrow(connection))));
        var listening = await server.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, TimeSpan.FromSeconds(5));
        return (server, ((IPEndPoint)listening.LocalAddress).Port);
    }

    private static async Task<string> RoundTrip(NetworkStream stream, string line)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(line));
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    [Fact]
    public async Task Each_accepted_connection_gets_its_own_handler()
    {
        var (_, port) = await StartServer();
        using var a = new TcpClient(); await a.ConnectAsync(IPAddress.Loopback, port);
        using var b = new TcpClient(); await b.ConnectAsync(IPAddress.Loopback, port);
        Assert.Equal("one\n", await RoundTrip(a.GetStream(), "one\n"));
        Assert.Equal("two\n", await RoundTrip(b.GetStream(), "two\n"));
    }

    [Fact]
    public async Task A_failing_connection_actor_closes_only_its_connection()
    {
        var (server, port) = await StartServer();
        using var healthy = new TcpClient(); await healthy.ConnectAsync(IPAddress.Loopback, port);
        using var faulty = new TcpClient(); await faulty.ConnectAsync(IPAddress.Loopback, port);
        Assert.Equal("hi\n", await RoundTrip(healthy.GetStream(), "hi\n"));

        await faulty.GetStream().WriteAsync(Encoding.ASCII.GetBytes("boom\n"));
        await AssertClosedByServer(faulty.GetStream());

        Assert.Equal("still\n", await RoundTrip(healthy.GetStream(), "still\n"));
        using var later = new TcpClient(); await later.ConnectAsync(IPAddress.Loopback, port);
        Assert.Equal("new\n", await RoundTrip(later.GetStream(), "new\n"));
        var stats = await server.Ask<TcpServer.Stats>(TcpServer.GetStats.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(3, stats.Accepted);
    }

    /// <summary>
    /// The listener counts its connections down when their actors stop (no DeathWatch: see
    /// TcpServer.ConnectionSupervision), whichever way they end: the handler throws and is stopped
    /// by the listener's strategy, the server closes, the client closes.
    /// </summary>
    [Fact]
    public async Task Open_connections_count_back_to_zero_however_they_end()
    {
        var (server, port) = await StartServer();
        for (var round = 0; round < 2; round++)
        {
            var clients = new List<TcpClient>();
            for (var i = 0; i < 6; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                Assert.Equal($"{i}\n", await RoundTrip(client.GetStream(), $"{i}\n"));
                clients.Add(client);
            }
            var stats = await server.Ask<TcpServer.Stats>(TcpServer.GetStats.Instance, TimeSpan.FromSeconds(5));
            Assert.Equal(6, stats.Open);

            for (var i = 0; i < 2; i++) // the handler throws: stopped by the listener's strategy
            {
                await clients[i].GetStream().WriteAsync(Encoding.ASCII.GetBytes("boom\n"));
                await AssertClosedByServer(clients[i].GetStream());
            }
            for (var i = 2; i < 4; i++) // the server closes
            {
                await clients[i].GetStream().WriteAsync(Encoding.ASCII.GetBytes("bye\n"));
                await AssertClosedByServer(clients[i].GetStream());
            }
            for (var i = 4; i < 6; i++) // the client closes
                clients[i].Close();

            await AwaitAssertAsync(async () =>
            {
                var after = await server.Ask<TcpServer.Stats>(TcpServer.GetStats.Instance, TimeSpan.FromSeconds(5));
                Assert.Equal(0, after.Open);
                Assert.Equal(6 * (round + 1), after.Accepted);
            }, TimeSpan.FromSeconds(10));
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Connections_beyond_the_limit_are_closed_at_once()
    {
        var (server, port) = await StartServer(maxConnections: 2);
        using var a = new TcpClient(); await a.ConnectAsync(IPAddress.Loopback, port);
        using var b = new TcpClient(); await b.ConnectAsync(IPAddress.Loopback, port);
        Assert.Equal("a\n", await RoundTrip(a.GetStream(), "a\n"));
        Assert.Equal("b\n", await RoundTrip(b.GetStream(), "b\n"));

        using var c = new TcpClient();
        // The server may abort the connection before the client has seen its connect complete.
        try { await c.ConnectAsync(IPAddress.Loopback, port); await AssertClosedByServer(c.GetStream()); }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset) { }
        var stats = await server.Ask<TcpServer.Stats>(TcpServer.GetStats.Instance, TimeSpan.FromSeconds(5));
        Assert.Equal(1, stats.Refused);
        Assert.Equal(2, stats.Open);
    }

    /// <summary>The server closed (FIN) or aborted (RST) the connection: either way, no data came back.</summary>
    private static async Task AssertClosedByServer(NetworkStream stream)
    {
        var buffer = new byte[16];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            Assert.Equal(0, await stream.ReadAsync(buffer, timeout.Token));
        }
        catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }
    }

    /// <summary>
    /// Akka.IO 1.5.73's listener starts its accepts before it becomes Bound, and drops an accept that
    /// completes in between (see <see cref="AcceptsDroppedAtBind"/>): the client's connection was
    /// accepted and never served. Clients that connect the moment the port opens are exactly those
    /// (one announce in ten at a tracker's start, polled by a script). Each round binds a new port
    /// while four clients keep trying to connect to it; every client that got in must be served.
    /// </summary>
    [Fact]
    public async Task A_client_that_connects_while_the_listener_binds_is_served()
    {
        const int rounds = 10, clients = 4;
        for (var round = 0; round < rounds; round++)
        {
            // Below the ephemeral range: a connect loop aimed at an ephemeral port may be given that
            // very port as its own and connect to itself (TCP simultaneous open), taking the port.
            var port = Actors.TestSupport.Ports.Free();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            // On the thread pool, on purpose: the spinning clients slow the listener's bind on it as a
            // loaded machine does, which widens the window (on threads of their own, it was rarely hit).
            var connecting = Enumerable.Range(0, clients).Select(_ => Task.Run(() => ConnectAsSoonAsOpen(port, stop.Token))).ToArray();
            Sys.ActorOf(TcpServer.Props(new TcpServerSettings("127.0.0.1", port),
                (connection, _, _) => Props.Create(() => new EchoOrThrow(connection))));
            foreach (var task in connecting)
            {
                using var client = await task;
                Assert.Equal("early\n", await RoundTrip(new NetworkStream(client), "early\n"));
            }
        }
    }

    /// <summary>Connects the moment the port listens: a refused connect on loopback costs microseconds.</summary>
    private static Socket ConnectAsSoonAsOpen(int port, CancellationToken stop)
    {
        var target = new IPEndPoint(IPAddress.Loopback, port);
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Connect(target);
                return socket;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public void A_port_already_in_use_fails_the_listener_with_a_clear_reason()
    {
        using var blocker = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        var port = ((IPEndPoint)blocker.LocalEndpoint).Port;
        var parent = CreateTestProbe();
        Sys.ActorOf(Props.Create(() => new FailureCatcher(
            TcpServer.Props(new TcpServerSettings("127.0.0.1", port), (c, _, _) => Props.Empty), parent.Ref)));
        var failure = parent.ExpectMsg<Exception>(TimeSpan.FromSeconds(5));
        Assert.IsType<TcpServer.BindFailedException>(failure);
        Assert.Contains($"127.0.0.1:{port}", failure.Message);
    }

    [Fact]
    public async Task A_connection_actor_failing_fatally_escalates_through_the_listener()
    {
        var parent = CreateTestProbe();
        var catcher = Sys.ActorOf(Props.Create(() => new FailureCatcher(
            TcpServer.Props(new TcpServerSettings("127.0.0.1", 0), (connection, _, _) => Props.Create(() => new EchoOrThrow(connection))),
            parent.Ref)));
        var listening = await catcher.Ask<TcpServer.Listening>(TcpServer.GetListening.Instance, TimeSpan.FromSeconds(5));
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listening.LocalAddress).Port);
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("fatal\n"));
        var failure = parent.ExpectMsg<Exception>(TimeSpan.FromSeconds(5));
        Assert.Equal("storage gone", Assert.IsType<Actors.Net.Supervision.FatalRoleException>(failure).Message);
    }

    /// <summary>Reports its child's failures to a probe; passes every message on to the child.</summary>
    private sealed class FailureCatcher : ReceiveActor
    {
        private readonly IActorRef _report;
        public FailureCatcher(Props child, IActorRef report)
        {
            _report = report;
            var created = Context.ActorOf(child);
            ReceiveAny(message => created.Forward(message));
        }
        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(ex =>
        {
            _report.Tell(ex);
            return Directive.Stop;
        });
    }

    [Theory]
    [InlineData(10_000, 200, 131, 18)]      // ulimit -n 200, a cluster node holding 131: (200 - 131 - 32) / 2
    [InlineData(10_000, 1_048_576, 150, 10_000)] // a generous limit: max-connections rules
    [InlineData(100, 4096, 100, 100)]
    [InlineData(10_000, 150, 140, 1)]       // nothing free: still one, never zero or negative
    public void The_descriptor_limit_caps_the_connections_a_listener_carries(int configured, int limit, int openNow, int expected) =>
        Assert.Equal(expected, TcpServer.DescriptorCap(configured, limit, openNow));

    [Fact]
    public void An_unknown_descriptor_limit_leaves_max_connections_as_configured() =>
        Assert.Equal(10_000, TcpServer.DescriptorCap(10_000, null, 120));
}
