using Actors.Calls.Transport;
using Actors.Net.Supervision;
using Actors.Net.Tcp;
using Akka.Actor;

namespace Actors.Calls.Rendezvous;

/// <summary>
/// Root of the rendezvous role (<c>rendezvous</c>): the node's presence and relay directories and
/// the listener, whose children are one <see cref="RendezvousSession"/> per caller connection.
/// </summary>
public sealed class RendezvousServer : ReceiveActor
{
    public static Props Props(RendezvousSettings settings) => Akka.Actor.Props.Create(() => new RendezvousServer(settings));

    public RendezvousServer(RendezvousSettings settings)
    {
        var presence = Context.ActorOf(PresenceDirectory.Props(), "presence");
        var relays = Context.ActorOf(RelayDirectory.Props(), "relays");
        var listener = Context.ActorOf(TcpServer.Props(new TcpServerSettings(settings.Host, settings.Port, settings.MaxConnections),
            (tcp, remote, local) => RendezvousSession.Props(tcp, remote, local, settings, presence, relays)), "listener");
        // Where we listen, for tests and the host's log.
        Receive<TcpServer.GetListening>(get => listener.Forward(get));
    }

    // A port that is taken ends the role (FailurePolicy); the directories restart as Akka would.
    protected override SupervisorStrategy SupervisorStrategy() => FailurePolicy.Strategy();
}
