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
/// write and ack is visible, so the window and the flush on close are checked exactly.
/// </summary>
public sealed class RelayConnectionTests : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private static readonly EndPoint Loopback = new IPEndPoint(IPAddress.Loopback, 1);

    private sealed record Side(IActorRef Connection, TestProbe Socket);

    private (Side A, Side B) Pair()
    {
        var server = CreateTestProbe();
        var settings = new RelaySettings("127.0.0.1", 0, "127.0.0.1");
        Side Open(string token)
        {
            var socket = CreateTestProbe();
            var connection = Sys.ActorOf(RelayConnection.Props(socket.Ref, Loopback, Loopback, settings, server.Ref));
            socket.ExpectMsg<Tcp.Register>();
            socket.ExpectMsg<Tcp.ResumeReading>();
            connection.Tell(Received(FrameCodec.Encode(new Join("c", token, token))), socket.Ref);
            Assert.Equal(token, server.ExpectMsg<RelayServer.Claim>().Token);
            return new Side(connection, socket);
        }
        var a = Open("ta");
        var b = Open("tb");
        a.Connection.Tell(new RelayServer.Paired(b.Connection, "c"));
        b.Connection.Tell(new RelayServer.Paired(a.Connection, "c"));
        foreach (var side in new[] { a, b })
        {
            var joined = side.Socket.ExpectMsg<Tcp.Write>();
            Assert.Equal(FrameCodec.Encode(new Joined("c")), joined.Data.ToArray());
            side.Socket.ExpectMsg<Tcp.ResumeReading>();
            // The Joined frame reaches the socket: that frees nothing on the other side.
            side.Connection.Tell(joined.Ack, side.Socket.Ref);
        }
        return (a, b);
    }

    private static Tcp.Received Received(byte[] bytes) => new(ByteString.FromBytes(bytes));

    [Fact]
    public void At_most_two_chunks_wait_for_the_other_socket_and_the_Joined_ack_is_not_one_of_them()
    {
        var (a, b) = Pair();
        a.Connection.Tell(Received([1]), a.Socket.Ref);
        var first = b.Socket.ExpectMsg<Tcp.Write>();
        a.Socket.ExpectMsg<Tcp.ResumeReading>();
        a.Connection.Tell(Received([2]), a.Socket.Ref);
        // Two chunks of a's wait for b's socket (one written, one queued): a reads no more.
        a.Socket.ExpectNoMsg(Quiet);
        b.Socket.ExpectNoMsg(TimeSpan.Zero);

        // b's socket takes the first: a may read one more, and b writes the second.
        b.Connection.Tell(first.Ack, b.Socket.Ref);
        a.Socket.ExpectMsg<Tcp.ResumeReading>();
        Assert.Equal(new byte[] { 2 }, b.Socket.ExpectMsg<Tcp.Write>().Data.ToArray());
        a.Connection.Tell(Received([3]), a.Socket.Ref);
        a.Socket.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Chunks_queued_when_the_other_side_leaves_are_written_before_the_close()
    {
        var (a, b) = Pair();
        a.Connection.Tell(Received([1]), a.Socket.Ref);
        var first = b.Socket.ExpectMsg<Tcp.Write>();
        a.Socket.ExpectMsg<Tcp.ResumeReading>();
        a.Connection.Tell(Received([2]), a.Socket.Ref);
        // a's client closes right after writing: its connection stops with [2] still queued at b.
        Watch(a.Connection);
        a.Connection.Tell(Tcp.PeerClosed.Instance, a.Socket.Ref);
        ExpectTerminated(a.Connection);

        b.Socket.ExpectNoMsg(Quiet); // [1] is not acknowledged yet: nothing else to do
        b.Connection.Tell(first.Ack, b.Socket.Ref);
        var second = b.Socket.ExpectMsg<Tcp.Write>();
        Assert.Equal(new byte[] { 2 }, second.Data.ToArray());
        b.Socket.ExpectNoMsg(Quiet); // not closed before [2] is acknowledged
        b.Connection.Tell(second.Ack, b.Socket.Ref);
        b.Socket.ExpectMsg<Tcp.Close>();
    }
}
