using System.Net;
using System.Net.Sockets;
using Actors.Net.Supervision;
using Actors.Net.Udp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;
using Xunit;

namespace Actors.Net.Tests.Udp;

/// <summary>
/// A real Akka.IO UDP handler on <see cref="DatagramMailbox"/>, kept busy (blocked on a gate)
/// while a flood arrives over loopback: it gets the bound and no more, the rest is counted, one
/// warning says so, and every other message still arrives.
/// </summary>
public sealed class DatagramMailboxTests : Akka.TestKit.Xunit2.TestKit
{
    private const int Bound = 100;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    public DatagramMailboxTests() : base($"""
        akka.loglevel = WARNING
        {DatagramMailbox.Id}.max-queued-datagrams = {Bound}
        {DatagramMailbox.Id}.drop-log-interval = 30m
        """) { }

    private sealed record Ready(IPEndPoint Local, DatagramQueue? Queue);
    private sealed record Block(ManualResetEventSlim Gate);
    private sealed record Command(int N);
    private sealed record Counts(int Datagrams, int Commands);

    private sealed class GetCounts
    {
        public static readonly GetCounts Instance = new();
        private GetCounts() { }
    }

    /// <summary>Counts datagrams and commands; <see cref="Block"/> holds its thread, as a slow handler would.</summary>
    private sealed class GatedHandler : ReceiveActor
    {
        private IActorRef _socket = ActorRefs.Nobody;
        private int _datagrams, _commands;

        public static Props Props(IActorRef probe) =>
            DatagramMailbox.Select(Akka.Actor.Props.Create(() => new GatedHandler(probe)));

        public GatedHandler(IActorRef probe)
        {
            Receive<Akka.IO.Udp.Bound>(bound =>
            {
                _socket = Sender;
                probe.Tell(new Ready((IPEndPoint)bound.LocalAddress, DatagramMailbox.QueueOf(Context)));
            });
            Receive<Block>(block => block.Gate.Wait(Wait));
            Receive<Akka.IO.Udp.Received>(_ => _datagrams++);
            Receive<Command>(_ => _commands++);
            Receive<GetCounts>(_ => Sender.Tell(new Counts(_datagrams, _commands)));
        }

        protected override void PreStart() =>
            Context.System.Udp().Tell(new Akka.IO.Udp.Bind(Self, new IPEndPoint(IPAddress.Loopback, 0)));

        protected override void PostStop()
        {
            if (!_socket.IsNobody()) _socket.Tell(Akka.IO.Udp.Unbind.Instance);
        }
    }

    [Fact]
    public async Task A_busy_handler_gets_the_bound_the_rest_is_dropped_counted_and_logged_once()
    {
        DatagramMailbox.Ensure(Sys);
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        var handler = Sys.ActorOf(GatedHandler.Props(TestActor), "gated");
        var ready = ExpectMsg<Ready>(Wait);
        var queue = Assert.IsType<DatagramQueue>(ready.Queue);
        Assert.Equal(Bound, queue.Bound);

        using var gate = new ManualResetEventSlim(false);
        handler.Tell(new Block(gate));
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        const int sent = 20_000;
        var deadline = DateTime.UtcNow + Wait;
        for (var i = 0; i < sent; i++)
        {
            // At most 64 datagrams between our socket and the mailbox, far below the kernel's
            // receive buffer: every datagram reaches the queue, so the counts below are exact.
            SpinWait.SpinUntil(() => i - (queue.QueuedDatagrams + queue.Dropped) < 64 || DateTime.UtcNow > deadline);
            Assert.True(DateTime.UtcNow < deadline, $"the listener stopped taking datagrams after {i}");
            client.Send(BitConverter.GetBytes(i), ready.Local);
            if (i % 20 == 0) handler.Tell(new Command(i)); // other messages keep coming in the flood
        }
        SpinWait.SpinUntil(() => queue.QueuedDatagrams + queue.Dropped == sent, Wait);

        Assert.Equal(Bound, queue.QueuedDatagrams);
        Assert.Equal(sent - Bound, queue.Dropped);
        var warning = warnings.FishForMessage<Warning>(w => IsDropLine(w), Wait);
        Assert.Contains("Dropped 1 UDP datagrams", warning.Message.ToString());
        Assert.Contains("max-queued-datagrams", warning.Message.ToString());

        gate.Set();
        var counts = await handler.Ask<Counts>(GetCounts.Instance, Wait);
        Assert.Equal(new Counts(Bound, sent / 20), counts);

        // Room again: the next datagram is handled, and not a line per dropped datagram was logged.
        client.Send(BitConverter.GetBytes(-1), ready.Local);
        await AwaitAssertAsync(async () =>
            Assert.Equal(Bound + 1, (await handler.Ask<Counts>(GetCounts.Instance, Wait)).Datagrams), Wait);
        Assert.DoesNotContain(warnings.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m as Warning), IsDropLine);
        Assert.Equal(sent - Bound, queue.Dropped);

        Watch(handler);
        Sys.Stop(handler);
        ExpectTerminated(handler, Wait);
    }

    [Fact]
    public async Task The_defaults_are_installed_once_when_the_configuration_has_none()
    {
        using var system = ActorSystem.Create("defaults", "akka.loglevel = WARNING");
        try
        {
            Assert.False(system.Settings.Config.HasPath(DatagramMailbox.Id + ".mailbox-type"));
            DatagramMailbox.Ensure(system);
            DatagramMailbox.Ensure(system);
            Assert.Equal(DatagramMailbox.DefaultBound, system.Settings.Config.GetInt(DatagramMailbox.Id + ".max-queued-datagrams"));
            var actor = system.ActorOf(DatagramMailbox.Select(Props.Create(() => new QueueReporter())));
            var queue = await actor.Ask<DatagramQueue?>("queue", Wait);
            Assert.Equal(DatagramMailbox.DefaultBound, Assert.IsType<DatagramQueue>(queue).Bound);
        }
        finally
        {
            await system.Terminate().WaitAsync(Wait);
        }
    }

    [Fact]
    public async Task A_bad_bound_is_a_fatal_role_error_naming_its_key()
    {
        using var system = ActorSystem.Create("bad", $"akka.loglevel = OFF\n{DatagramMailbox.Id}.max-queued-datagrams = 0");
        try
        {
            var error = Assert.Throws<FatalRoleException>(() => DatagramMailbox.Ensure(system));
            Assert.Contains(DatagramMailbox.Id + ".max-queued-datagrams", error.Message);
        }
        finally
        {
            await system.Terminate().WaitAsync(Wait);
        }
    }

    private static bool IsDropLine(Warning? warning) => warning?.Message.ToString()?.Contains("UDP datagrams") == true;

    private sealed class QueueReporter : ReceiveActor
    {
        public QueueReporter() => Receive<string>(_ => Sender.Tell(DatagramMailbox.QueueOf(Context)));
    }
}
