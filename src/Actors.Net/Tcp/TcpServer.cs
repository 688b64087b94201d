using System.Net;
using Actors.Net.Telemetry;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Net.Tcp;

/// <summary>
/// Binds a listening socket through Akka.IO and gives every accepted connection its own child actor,
/// made by the role's factory. Children are stopped (never restarted) when they fail, so one bad
/// connection never takes the listener down. Beyond <see cref="TcpServerSettings.MaxConnections"/>
/// a new connection is closed at once: the node protects itself instead of queueing without bound.
/// </summary>
public sealed class TcpServer : ReceiveActor, IWithStash
{
    /// <summary>Makes the actor that will own one accepted connection.</summary>
    public delegate Props ConnectionProps(IActorRef connection, EndPoint remote, EndPoint local);

    /// <summary>Ask the server where it listens; answered with <see cref="Listening"/> once bound.</summary>
    public sealed class GetListening { public static readonly GetListening Instance = new(); private GetListening() { } }
    public sealed record Listening(EndPoint LocalAddress);
    /// <summary>Ask for the connection counters; answered with <see cref="Stats"/>.</summary>
    public sealed class GetStats { public static readonly GetStats Instance = new(); private GetStats() { } }
    public sealed record Stats(int Open, long Accepted, long Refused);

    public sealed class BindFailedException(string message) : Exception(message);

    private readonly TcpServerSettings _settings;
    private readonly ConnectionProps _connectionProps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private int _open;
    private long _accepted, _refused;

    public IStash Stash { get; set; } = null!;

    public static Props Props(TcpServerSettings settings, ConnectionProps connectionProps) =>
        Akka.Actor.Props.Create(() => new TcpServer(settings, connectionProps));

    public TcpServer(TcpServerSettings settings, ConnectionProps connectionProps)
    {
        _settings = settings;
        _connectionProps = connectionProps;
        Binding();
    }

    protected override void PreStart() =>
        Context.System.Tcp().Tell(new Akka.IO.Tcp.Bind(Self, _settings.EndPoint, _settings.Backlog, null, pullMode: _settings.PullMode));

    // A failing connection actor is stopped, never restarted: its socket state cannot be rebuilt.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(ex =>
        {
            _log.Warning(ex, "Connection actor failed; closing that connection only");
            return Directive.Stop;
        });

    private void Binding()
    {
        Receive<Akka.IO.Tcp.Bound>(bound =>
        {
            _log.Info("Listening on {0}", Endpoints.Format(bound.LocalAddress));
            Become(() => Bound(bound.LocalAddress));
            Stash.UnstashAll();
        });
        Receive<Akka.IO.Tcp.CommandFailed>(failed =>
            throw new BindFailedException(
                $"cannot listen on {Endpoints.Format(_settings.EndPoint)}: {failed.CauseString}"));
        ReceiveAny(_ => Stash.Stash());
    }

    private void Bound(EndPoint localAddress)
    {
        Receive<Akka.IO.Tcp.Connected>(connected => Accept(connected, Sender));
        Receive<Terminated>(_ => { _open--; NetMetrics.ConnectionsOpen.Add(-1); });
        Receive<GetListening>(_ => Sender.Tell(new Listening(localAddress)));
        Receive<GetStats>(_ => Sender.Tell(new Stats(_open, _accepted, _refused)));
    }

    private void Accept(Akka.IO.Tcp.Connected connected, IActorRef connection)
    {
        if (_open >= _settings.MaxConnections)
        {
            _refused++;
            _log.Warning("Refusing {0}: {1} connections open (max-connections)", Endpoints.Format(connected.RemoteAddress), _open);
            connection.Tell(Akka.IO.Tcp.Abort.Instance);
            return;
        }
        var handler = Context.ActorOf(_connectionProps(connection, connected.RemoteAddress, connected.LocalAddress));
        Context.Watch(handler);
        _open++;
        _accepted++;
        NetMetrics.ConnectionsOpen.Add(1); NetMetrics.ConnectionsAccepted.Add(1);
        // The handler registers itself with the connection (it chooses pull mode and keep-open).
    }
}
