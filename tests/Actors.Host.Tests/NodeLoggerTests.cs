using System.Net.Sockets;
using Actors.Host.Hosting;
using Akka.Actor;
using Akka.Event;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>Which of Akka.IO's errors the node's log counts instead of writing one by one.</summary>
public sealed class NodeLoggerTests
{
    private const string ConnectionActor = "akka://actors/system/IO-TCP/tcp-client-connection-12";
    private static readonly SocketException NotConnected = new((int)SocketError.NotConnected);

    [Fact]
    public void A_connection_closed_while_Akka_IO_set_it_up_is_counted_once_for_its_two_errors()
    {
        Assert.True(NodeLogger.IsClosedDuringSetup(new Error(NotConnected, ConnectionActor, typeof(object), "Transport endpoint is not connected"), out var first));
        Assert.True(first);
        var restart = new PostRestartException(ActorRefs.Nobody, new InvalidOperationException("restart"), NotConnected);
        Assert.True(NodeLogger.IsClosedDuringSetup(new Error(restart, ConnectionActor, typeof(object), "Restarting not supported for connection actors."), out first));
        Assert.False(first);
    }

    [Fact]
    public void Other_errors_are_written_as_they_come()
    {
        Assert.False(NodeLogger.IsClosedDuringSetup(new Error(new SocketException((int)SocketError.ConnectionRefused), ConnectionActor, typeof(object), "refused"), out _));
        Assert.False(NodeLogger.IsClosedDuringSetup(new Error(NotConnected, "akka://actors/user/web/http", typeof(object), "ours"), out _));
        Assert.False(NodeLogger.IsClosedDuringSetup(new Warning(ConnectionActor, typeof(object), "a warning"), out _));
        var restart = new PostRestartException(ActorRefs.Nobody, new InvalidOperationException("restart"), new InvalidOperationException("other"));
        Assert.False(NodeLogger.IsClosedDuringSetup(new Error(restart, ConnectionActor, typeof(object), "Restarting not supported for connection actors."), out _));
    }
}
