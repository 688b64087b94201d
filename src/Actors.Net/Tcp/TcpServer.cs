using System.Net;
using Actors.Net.Supervision;
using Actors.Net.Logging;
using Akka;
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
/// <para>
/// That bound is also capped by the process's descriptor limit (<see cref="DescriptorCap"/>): a
/// process with no descriptor left cannot even create the runtime's own handles and dies ("Out of
/// memory." under <c>ulimit -n 200</c> and 300 idle clients, while Akka.IO's listener logged a
/// retry every 10 ms). Refusing at the cap keeps descriptors for files, cluster links and the runtime.
/// </para>
/// <para>
/// Open connections are counted without DeathWatch: Akka tells a parent that a child stopped
/// through its supervisor strategy (<see cref="ConnectionSupervision"/>), whatever stopped it,
/// which saves a Watch and a <see cref="Terminated"/> message per connection.
/// </para>
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

    /// <summary>Stop accepting (the listening socket closes; open connections carry on); answered with <see cref="Unbound"/>.</summary>
    public sealed class Unbind { public static readonly Unbind Instance = new(); private Unbind() { } }
    public sealed class Unbound { public static readonly Unbound Instance = new(); private Unbound() { } }

    /// <summary>The port is taken (or the address is not ours): fatal for the role, see <see cref="FailurePolicy"/>.</summary>
    public sealed class BindFailedException(string message, bool outOfDescriptors) : FatalRoleException(message)
    {
        /// <summary>The process ran out of file descriptors: a shortage that may pass, unlike a taken port.</summary>
        public bool OutOfDescriptors { get; } = outOfDescriptors;
    }

    private readonly TcpServerSettings _settings;
    private readonly ConnectionProps _connectionProps;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopped = new();
    private int _open;
    private int _maxConnections;
    private long _accepted, _refused;
    private readonly LogEvery _refusals = new(TimeSpan.FromSeconds(10));
    private readonly AcceptsDroppedAtBind _droppedAccepts = new();

    public IStash Stash { get; set; } = null!;

    public static Props Props(TcpServerSettings settings, ConnectionProps connectionProps) =>
        Akka.Actor.Props.Create(() => new TcpServer(settings, connectionProps));

    public TcpServer(TcpServerSettings settings, ConnectionProps connectionProps)
    {
        _settings = settings;
        _connectionProps = connectionProps;
        _maxConnections = settings.MaxConnections;
        Binding();
    }

    protected override void PreStart()
    {
        _droppedAccepts.Watch(Context);
        Context.System.Tcp().Tell(new Akka.IO.Tcp.Bind(Self, _settings.EndPoint, _settings.Backlog, null, pullMode: _settings.PullMode));
    }

    /// <summary>
    /// A node that shuts down closes its listening socket first (the phase made for it), so Akka.IO's
    /// listener stops on our Unbind instead of warning that its commander died. Registered once bound:
    /// a server that never bound has nothing to close and must not delay a failing node's exit.
    /// </summary>
    private void UnbindOnShutdown()
    {
        var self = Self;
        var stopped = _stopped.Token;
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseServiceUnbind, "tcp-server-unbind", async () =>
        {
            try { await self.Ask<Unbound>(Unbind.Instance, TimeSpan.FromSeconds(3), stopped); }
            catch (Exception ex) when (ex is AskTimeoutException or OperationCanceledException) { } // stopped already: its socket is closed
            return Done.Instance;
        });
    }

    protected override void PostStop() => _stopped.Cancel();

    // A failing connection actor is stopped, never restarted: its socket state cannot be rebuilt.
    // A failure fatal for the role escalates, as FailurePolicy.Strategy decides for every other
    // parent. Akka asks for the strategy once per actor instance and keeps it.
    protected override SupervisorStrategy SupervisorStrategy() =>
        new ConnectionSupervision(ex =>
        {
            if (FailurePolicy.Fatal(ex) is not null) return Directive.Escalate;
            _log.Warning(ex, "Connection actor failed; closing that connection only");
            return Directive.Stop;
        }, ConnectionStopped);

    /// <summary>
    /// One-for-one supervision that also reports every child that stopped. Akka's ActorCell calls
    /// <see cref="SupervisorStrategy.HandleChildTerminated"/> when it removes a terminated child from
    /// its children (the child's DeathWatchNotification, a system message every parent receives,
    /// watched or not), on the parent's own thread, so the callback may touch the actor's fields.
    /// It runs for a child stopped by this strategy, by itself or by the parent's own stop or restart
    /// (then on the instance that is going away, so the meter stays exact). Keep it to counting:
    /// it runs inside Akka's child bookkeeping, and a throw there fails the parent.
    /// </summary>
    private sealed class ConnectionSupervision(Func<Exception, Directive> decider, Action childStopped)
        : OneForOneStrategy(decider)
    {
        public override void HandleChildTerminated(IActorContext actorContext, IActorRef child, IEnumerable<IInternalActorRef> children) =>
            childStopped();
    }

    // Every child is a connection actor made by Accept.
    private void ConnectionStopped()
    {
        _open--;
        NetMetrics.ConnectionsOpen.Add(-1);
    }

    private void Binding()
    {
        Receive<UnhandledMessage>(unhandled => _droppedAccepts.Hold(unhandled));
        Receive<Akka.IO.Tcp.Bound>(bound =>
        {
            _log.Info("Listening on {0}", Endpoints.Format(bound.LocalAddress));
            if (_droppedAccepts.Release(Context, Sender) is var released and > 0)
                _log.Info("Handed the listener back {0} connection(s) it accepted while binding", released);
            // Counted at most once a second for the process: thousands of listeners may bind at once.
            var open = DescriptorLimit.OpenRecently(TimeSpan.FromSeconds(1));
            if (DescriptorCap(_settings.MaxConnections, DescriptorLimit.Current(), open) is var cap && cap < _maxConnections)
            {
                _log.Info("At most {0} connections on {1}, not {2} (max-connections): the process may open {3} descriptors (ulimit -n) and holds {4}",
                    cap, Endpoints.Format(bound.LocalAddress), _maxConnections, DescriptorLimit.Current(), open);
                _maxConnections = cap;
            }
            var listener = Sender;
            UnbindOnShutdown();
            Become(() => Bound(bound.LocalAddress, listener));
            Stash.UnstashAll();
        });
        // Fatal for the role (FailurePolicy): the parent escalates it to the host, which exits 1.
        Receive<Akka.IO.Tcp.CommandFailed>(failed =>
        {
            _droppedAccepts.Release(Context, ActorRefs.Nobody);
            throw new BindFailedException(
                $"cannot listen on {Endpoints.Format(_settings.EndPoint)}: {(failed.Cause.HasValue ? failed.Cause.Value.Message : failed.CauseString)}",
                failed.Cause.HasValue && failed.Cause.Value is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.TooManyOpenSockets });
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Bound(EndPoint localAddress, IActorRef listener)
    {
        Receive<Akka.IO.Tcp.Connected>(connected => Accept(connected, Sender));
        Receive<UnhandledMessage>(_ => { }); // published before the bind's watch ended; its accepts are back already
        Receive<GetListening>(_ => Sender.Tell(new Listening(localAddress)));
        Receive<GetStats>(_ => Sender.Tell(new Stats(_open, _accepted, _refused)));
        Receive<Unbind>(_ =>
        {
            var requester = Sender;
            listener.Tell(Akka.IO.Tcp.Unbind.Instance);
            Become(() => UnbindingFrom(requester));
        });
    }

    private void UnbindingFrom(IActorRef requester)
    {
        Receive<Akka.IO.Tcp.Unbound>(_ =>
        {
            _log.Debug("Stopped listening");
            requester.Tell(Unbound.Instance);
        });
        Receive<GetStats>(_ => Sender.Tell(new Stats(_open, _accepted, _refused)));
        Receive<Unbind>(_ => Sender.Tell(Unbound.Instance));
        // Connections accepted before the listener closed still get their handler.
        Receive<Akka.IO.Tcp.Connected>(connected => Accept(connected, Sender));
    }

    /// <summary>
    /// Connections a listener may carry within the descriptor limit: half of what is free when it
    /// binds, less a reserve, because a connection may hold a second descriptor (a file being
    /// served) and the rest of the process (cluster links, logs, the runtime) needs some too.
    /// At least 1; <paramref name="configured"/> when the limit is unknown or not the bound.
    /// </summary>
    public static int DescriptorCap(int configured, int? limit, int openNow)
    {
        const int reserve = 32;
        if (limit is not { } soft) return configured;
        return Math.Clamp((soft - openNow - reserve) / 2, 1, configured);
    }

    private void Accept(Akka.IO.Tcp.Connected connected, IActorRef connection)
    {
        if (_open >= _maxConnections)
        {
            _refused++;
            if (_refusals.ShouldLog(out var refused)) // one line per interval, not one per connection
                _log.Warning("Refusing {0}: {1} connections open (max-connections); {2} refused since the last warning", Endpoints.Format(connected.RemoteAddress), _open, refused);
            connection.Tell(Akka.IO.Tcp.Abort.Instance);
            return;
        }
        // Not watched: ConnectionSupervision counts it when it stops.
        Context.ActorOf(_connectionProps(connection, connected.RemoteAddress, connected.LocalAddress));
        _open++;
        _accepted++;
        NetMetrics.ConnectionsOpen.Add(1); NetMetrics.ConnectionsAccepted.Add(1);
        // The handler registers itself with the connection (it chooses pull mode and keep-open).
    }
}
