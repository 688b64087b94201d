using System.Net;
using Actors.Calls.Protocol;
using Actors.Calls.Relay;
using Akka.Actor;
using Akka.IO;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Calls.Tests.Relay;

/// <summary>
/// Two paired <see cref="RelayConnection"/>s whose sockets are test probes: every read request,
/// write and ack is visible, so the window, the direct writes to the other socket and the flush on
/// close are checked exactly.
/// </summary>
public sealed class RelayConnectionTests : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private static readonly EndPoint Loopback = new IPEndPoint(IPAddress.Loopback, 1);

    private sealed record Side(IActorRef Connection, TestProbe Socket);

    private (Side A, Side B) Pair(TimeSpan? idleTimeout = null)
    {
        var server = CreateTestProbe();
        var settings = new RelaySettings("127.0.0.1", 0, "127.0.0.1", IdleTimeoutOrNull: idleTimeout);
        Side Open(string token)
        {
            var socket = CreateTestProbe();
            var connection = Sys.ActorOf(RelayConnection.Props(socket.Ref, Loopback, Loopback, settings, server.Ref));
            socket.ExpectMsg<Tcp.Register>();
            socket.ExpectMsg<Tcp.ResumeReading>();
            connection.Tell(Received(FrameCodec.Encode(new Join("c", token, token))), socket.Ref);
            var claim = server.ExpectMsg<RelayServer.Claim>();
            Assert.Equal(token, claim.Token);
            Assert.Equal(socket.Ref, claim.Socket);
            return new Side(connection, socket);
        }
        var a = Open("ta");
        var b = Open("tb");
        a.Connection.Tell(new RelayServer.Paired(b.Connection, b.Socket.Ref, "c"));
        b.Connection.Tell(new RelayServer.Paired(a.Connection, a.Socket.Ref, "c"));
        foreach (var (side, other) in new[] { (a, b), (b, a) })
        {
            // Each socket gets its Joined from the other side (which then writes its bytes after it)
            // and a read request from its own side, in either order.
            var messages = new[] { side.Socket.ExpectMsg<object>(), side.Socket.ExpectMsg<object>() };
            var joined = messages.OfType<Tcp.Write>().Single();
            Assert.Equal(FrameCodec.Encode(new Joined("c")), joined.Data.ToArray());
            Assert.Single(messages.OfType<Tcp.ResumeReading>());
            // The Joined frame reaches the socket: that frees nothing of the writer's window.
            other.Connection.Tell(joined.Ack, side.Socket.Ref);
        }
        return (a, b);
    }

    private static Tcp.Received Received(byte[] bytes) => new(ByteString.FromBytes(bytes));

    [Fact]
    public void Bytes_go_straight_to_the_other_socket_and_at_most_two_chunks_wait_for_its_acks()
    {
        var (a, b) = Pair();
        a.Connection.Tell(Received([1]), a.Socket.Ref);
        var first = b.Socket.ExpectMsg<Tcp.Write>();
        // Written by a itself, so the socket's ack comes back to a, not through b.
        Assert.Equal(a.Connection, b.Socket.LastSender);
        a.Socket.ExpectMsg<Tcp.ResumeReading>();
        a.Connection.Tell(Received([2]), a.Socket.Ref);
        Assert.Equal(new byte[] { 2 }, b.Socket.ExpectMsg<Tcp.Write>().Data.ToArray());
        // Two chunks of a's wait for b's socket: a reads no more.
        a.Socket.ExpectNoMsg(Quiet);

        // b's socket takes the first: a may read one more.
        a.Connection.Tell(first.Ack, b.Socket.Ref);
        a.Socket.ExpectMsg<Tcp.ResumeReading>();
        a.Connection.Tell(Received([3]), a.Socket.Ref);
        Assert.Equal(new byte[] { 3 }, b.Socket.ExpectMsg<Tcp.Write>().Data.ToArray());
        a.Socket.ExpectNoMsg(Quiet);
        // b's own actor was never on the path.
        b.Socket.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void Chunks_written_before_the_other_side_leaves_reach_the_socket_before_its_close()
    {
        var (a, b) = Pair();
        a.Connection.Tell(Received([1]), a.Socket.Ref);
        Assert.Equal(new byte[] { 1 }, b.Socket.ExpectMsg<Tcp.Write>().Data.ToArray());
        a.Socket.ExpectMsg<Tcp.ResumeReading>();
        a.Connection.Tell(Received([2]), a.Socket.Ref);
        Assert.Equal(new byte[] { 2 }, b.Socket.ExpectMsg<Tcp.Write>().Data.ToArray());
        // a's client closes right after writing: its connection stops with both chunks unacknowledged.
        Watch(a.Connection);
        a.Connection.Tell(Tcp.PeerClosed.Instance, a.Socket.Ref);
        ExpectTerminated(a.Connection);

        // b closes its socket gracefully (Close, not Abort), behind the chunks: Akka.IO writes
        // what it holds before it closes.
        b.Socket.ExpectMsg<Tcp.Close>();
        Watch(b.Connection);
        b.Connection.Tell(Tcp.Closed.Instance, b.Socket.Ref);
        ExpectTerminated(b.Connection);
    }

    [Fact]
    public void A_close_that_never_completes_is_aborted_after_the_idle_timeout()
    {
        var (a, b) = Pair(TimeSpan.FromMilliseconds(400));
        a.Connection.Tell(Received([1]), a.Socket.Ref);
        b.Socket.ExpectMsg<Tcp.Write>();
        Watch(a.Connection);
        a.Connection.Tell(Tcp.PeerClosed.Instance, a.Socket.Ref);
        ExpectTerminated(a.Connection);

        // b's reader never takes the chunk, so Akka.IO's Close never completes: b aborts.
        b.Socket.ExpectMsg<Tcp.Close>();
        b.Socket.ExpectMsg<Tcp.Abort>(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_one_way_stream_keeps_the_quiet_side_open_past_the_idle_timeout()
    {
        var idle = TimeSpan.FromMilliseconds(400);
        var (a, b) = Pair(idle);
        // a streams to b for three idle timeouts; b's client says nothing all along.
        var until = DateTime.UtcNow + 3 * idle;
        for (var i = 0; DateTime.UtcNow < until && i < 1000; i++)
        {
            a.Connection.Tell(Received([(byte)i]), a.Socket.Ref);
            var chunk = b.Socket.ExpectMsg<Tcp.Write>();
            a.Connection.Tell(chunk.Ack, b.Socket.Ref);
            a.Socket.ExpectMsg<Tcp.ResumeReading>();
            Thread.Sleep(50);
        }
        // No Abort on either socket: b asked a, and a was busy.
        a.Socket.ExpectNoMsg(TimeSpan.Zero);
        b.Socket.ExpectNoMsg(TimeSpan.Zero);

        // Then both are quiet: one side aborts its socket after the idle timeout (whichever checks first).
        object? abort = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (abort is null && DateTime.UtcNow < deadline)
        {
            foreach (var socket in new[] { a.Socket, b.Socket })
                if (socket.HasMessages && socket.ReceiveOne(TimeSpan.Zero) is Tcp.Abort aborted) abort = aborted;
            Thread.Sleep(20);
        }
        Assert.NotNull(abort);
    }
}
