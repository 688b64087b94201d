using Akka.Actor;
using Akka.Event;

namespace Actors.Net.Tcp;

/// <summary>
/// Works around a race in Akka.IO 1.5.73's <c>TcpListener</c>: it starts its accepts while it
/// binds, before it becomes Bound, and an accept that completes in between (a client that
/// connects the moment the port opens) reaches it as a message it does not handle yet and is
/// dropped. The kernel and .NET accepted that connection, so the client waits for ever on a socket
/// nobody reads, and the listener has one accept fewer in flight for the rest of its life.
/// Found 2026-11-29: one start in ten of a tracker polled by a script (a dump showed the socket
/// with no Akka.IO connection actor); <c>TcpServerTests</c> reproduces it (5 runs of 5 fail without the hand-back).
/// <para>
/// An actor that binds calls <see cref="Watch"/> before it sends <c>Bind</c>. Akka publishes every
/// unhandled message on the event stream, so the dropped accepts reach it, and <see cref="Hold"/>
/// keeps those of a listener. On <c>Bound</c>, <see cref="Release"/> hands its listener's back:
/// the listener handled its own Bound before it told us, so they now arrive at a bound listener.
/// Every drop comes before that Bound (the listener drops them before it handles its own), so
/// none is missed, and the event stream is watched only for the few milliseconds of a bind.
/// </para>
/// </summary>
public sealed class AcceptsDroppedAtBind
{
    // Akka.IO's private message for a finished accept (TcpListener+AcceptCompleted, 1.5.73).
    private const string AcceptCompletedType = "Akka.IO.TcpListener+AcceptCompleted";

    private readonly List<UnhandledMessage> _held = [];
    private bool _watching;

    /// <summary>Starts collecting unhandled messages for <paramref name="context"/>'s actor; call before sending Bind.</summary>
    public void Watch(IActorContext context)
    {
        _watching = context.System.EventStream.Subscribe(context.Self, typeof(UnhandledMessage));
    }

    /// <summary>Keeps <paramref name="unhandled"/> when it is an accept a listener dropped; true when it was kept.</summary>
    public bool Hold(UnhandledMessage unhandled)
    {
        if (!_watching || unhandled.Message.GetType().FullName != AcceptCompletedType) return false;
        _held.Add(unhandled);
        return true;
    }

    /// <summary>
    /// Stops watching and hands <paramref name="listener"/> the accepts it dropped (none when the bind
    /// failed: pass <see cref="ActorRefs.Nobody"/>). Returns how many were handed back.
    /// </summary>
    public int Release(IActorContext context, IActorRef listener)
    {
        if (_watching) context.System.EventStream.Unsubscribe(context.Self, typeof(UnhandledMessage));
        _watching = false;
        var released = 0;
        foreach (var dropped in _held)
        {
            if (!dropped.Recipient.Equals(listener)) continue; // another actor's bind in the same moments
            dropped.Recipient.Tell(dropped.Message, dropped.Sender);
            released++;
        }
        _held.Clear();
        return released;
    }
}
