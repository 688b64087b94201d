using System.Diagnostics;
using System.Net;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Lab.Links;

/// <summary>
/// One proxied connection pair: the accepted client socket and the socket it opens to the target.
/// Both sockets are in pull mode (one <c>Received</c> per <c>ResumeReading</c>). Each direction
/// has a <see cref="ToxicShaper{T}"/> holding at most <see cref="LinkProxySettings.MaxBufferedBytes"/>
/// (plus one read) and one acked write in flight, so a side that stops reading stops the proxy
/// reading from the other side: nothing buffers without bound. Toxics change live
/// (<see cref="ToxicsChanged"/>); toxicity is drawn once per toxic for this connection.
/// </summary>
public sealed class LinkConnection : ReceiveActor, IWithTimers
{
    /// <summary>From the <see cref="LinkProxy"/>: the link's toxics now; answered with <see cref="ToxicsApplied"/>.</summary>
    public sealed record ToxicsChanged(IReadOnlyList<Toxic> Toxics, long Change = 0);
    /// <summary>The change is in force: every byte this connection reads from now on meets the new toxics.</summary>
    public sealed record ToxicsApplied(long Change);

    private sealed class UpAck : Tcp.Event { public static readonly UpAck Instance = new(); }
    private sealed class DownAck : Tcp.Event { public static readonly DownAck Instance = new(); }
    private sealed record Wake(ToxicStream Stream);
    private sealed record StallExpired(string Toxic);
    private sealed record ResetDue(string Toxic);
    private sealed class CloseTimeout { public static readonly CloseTimeout Instance = new(); }

    /// <summary>One direction: bytes read from <see cref="Source"/>, shaped, written to <see cref="Destination"/>.</summary>
    private sealed class Pipe(ToxicStream stream, Tcp.Event ack, Random random)
    {
        public readonly ToxicStream Stream = stream;
        public readonly Tcp.Event Ack = ack;
        public readonly ToxicShaper<ByteString> Shaper = new(b => b.Count, (b, offset, count) => b.Slice(offset, count), random);
        public IActorRef Source = ActorRefs.Nobody;
        public IActorRef Destination = ActorRefs.Nobody;
        public bool ReadRequested;
        public int InFlight; // bytes written and not yet acked (0: no write in flight)
        public bool CloseAfterWrite;
        public bool SourceEnded;      // the source sent FIN
        public bool DestinationEnded; // we sent FIN to the destination
        public Wake WakeUp => new(Stream);
    }

    private readonly IActorRef _client;
    private readonly EndPoint _clientAddress;
    private readonly EndPoint _target;
    private readonly LinkProxySettings _settings;
    private readonly LinkCounters _counters;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Random _random = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Pipe _up, _down;
    private readonly Dictionary<string, (Toxic Toxic, bool Applies)> _draws = new();
    private IActorRef _targetConnection = ActorRefs.Nobody;
    private readonly HashSet<IActorRef> _closed = new(); // sockets whose connection actor has finished
    private IReadOnlyList<Toxic> _toxics;
    private int _openSockets;
    private bool _finished;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef client, EndPoint clientAddress, EndPoint target, LinkProxySettings settings, IReadOnlyList<Toxic> toxics, LinkCounters counters) =>
        // One per proxied connection: a plain factory, no expression tree compiled per connection.
        FactoryProps.Create(() => new LinkConnection(client, clientAddress, target, settings, toxics, counters));

    public LinkConnection(IActorRef client, EndPoint clientAddress, EndPoint target, LinkProxySettings settings, IReadOnlyList<Toxic> toxics, LinkCounters counters)
    {
        _client = client;
        _clientAddress = clientAddress;
        _target = target;
        _settings = settings;
        _toxics = toxics;
        _counters = counters;
        _up = new Pipe(ToxicStream.Upstream, UpAck.Instance, _random) { Source = client };
        _down = new Pipe(ToxicStream.Downstream, DownAck.Instance, _random) { Destination = client };
        Connecting();
    }

    private TimeSpan Now => _clock.Elapsed;

    protected override void PreStart()
    {
        _counters.Opened();
        _client.Tell(new Tcp.Register(Self, keepOpenOnPeerClosed: true, useResumeWriting: false));
        Context.Watch(_client);
        _openSockets = 1;
        if (_toxics.Any(t => t.Kind is ToxicKind.Down))
        {
            Abort("the link is down");
            return;
        }
        Context.System.Tcp().Tell(new Tcp.Connect(_target, timeout: _settings.ConnectTimeout, pullMode: true));
    }

    protected override void PostStop()
    {
        _counters.Closed();
        _counters.BufferChanged(-(_up.Shaper.QueuedBytes + _down.Shaper.QueuedBytes));
        // Stopped from outside (link removed, failure): reset what is still open.
        if (!_finished) TellOpen(Tcp.Abort.Instance);
    }

    private void Connecting()
    {
        Receive<Tcp.Connected>(connected =>
        {
            _targetConnection = Sender;
            _targetConnection.Tell(new Tcp.Register(Self, keepOpenOnPeerClosed: true, useResumeWriting: false));
            Context.Watch(_targetConnection);
            _openSockets = 2;
            _up.Destination = _targetConnection;
            _down.Source = _targetConnection;
            Become(Piping);
            ApplyToxics(_toxics);
            if (_finished) return;
            ReadMore(_up);
            ReadMore(_down);
        });
        Receive<Tcp.CommandFailed>(failed =>
        {
            _log.Info("{0}: cannot reach target {1} ({2}); resetting the client", Endpoints.Format(_clientAddress), Endpoints.Format(_target), failed.CauseString);
            Abort("target unreachable");
        });
        Receive<ToxicsChanged>(changed =>
        {
            Sender.Tell(new ToxicsApplied(changed.Change));
            _toxics = changed.Toxics;
            if (_toxics.Any(t => t.Kind is ToxicKind.Down)) Abort("the link is down");
        });
        Receive<Tcp.ConnectionClosed>(_ => { _closed.Add(_client); Abort("client left before the target answered"); });
        Receive<Terminated>(_ => Abort("client connection ended"));
    }

    private void Piping()
    {
        Receive<Tcp.Received>(received =>
        {
            var pipe = Sender.Equals(_client) ? _up : _down;
            pipe.ReadRequested = false;
            pipe.Shaper.Enqueue(received.Data, Now);
            _counters.BufferChanged(received.Data.Count);
            Pump(pipe);
            ReadMore(pipe);
        });
        Receive<UpAck>(_ => Written(_up));
        Receive<DownAck>(_ => Written(_down));
        Receive<Wake>(wake => Pump(wake.Stream == ToxicStream.Upstream ? _up : _down));
        Receive<ToxicsChanged>(changed =>
        {
            Sender.Tell(new ToxicsApplied(changed.Change));
            ApplyToxics(changed.Toxics);
        });
        Receive<StallExpired>(stall => Close($"stalled for the {stall.Toxic} toxic's timeout"));
        Receive<ResetDue>(reset => Abort($"{reset.Toxic} toxic"));
        Receive<Tcp.PeerClosed>(_ =>
        {
            var pipe = Sender.Equals(_client) ? _up : _down;
            pipe.SourceEnded = true;
            Finish(pipe);
        });
        Receive<Tcp.ConfirmedClosed>(_ =>
        {
            // We half-closed this socket earlier; now its peer has closed too: its direction has ended.
            var pipe = Sender.Equals(_client) ? _up : _down;
            pipe.SourceEnded = true;
            _openSockets--;
            // That connection actor stops now; its end is not a failure.
            _closed.Add(Sender);
            Context.Unwatch(Sender);
            Finish(pipe);
            Finish(pipe == _up ? _down : _up);
        });
        Receive<Tcp.Closed>(_ => { if (--_openSockets <= 0) Context.Stop(Self); });
        Receive<Tcp.ErrorClosed>(e => { _closed.Add(Sender); Abort($"{(Sender.Equals(_client) ? "client" : "target")} error: {e.Cause}"); });
        Receive<Tcp.Aborted>(_ => { _closed.Add(Sender); Abort($"{(Sender.Equals(_client) ? "client" : "target")} reset the connection"); });
        Receive<Tcp.CommandFailed>(failed => Abort($"command failed: {failed.CauseString}"));
        Receive<Terminated>(t => Abort($"{(t.ActorRef.Equals(_client) ? "client" : "target")} connection ended"));
    }

    private void Closing()
    {
        // PeerClosed is only a half; the other ConnectionClosed events end a socket.
        Receive<Tcp.PeerClosed>(_ => { });
        Receive<Tcp.ConnectionClosed>(_ => { if (--_openSockets <= 0) Context.Stop(Self); });
        Receive<CloseTimeout>(_ => Context.Stop(Self));
        Receive<ToxicsChanged>(changed => Sender.Tell(new ToxicsApplied(changed.Change))); // nothing flows any more
        ReceiveAny(_ => { });
    }

    private void ApplyToxics(IReadOnlyList<Toxic> toxics)
    {
        _toxics = toxics;
        var previous = _draws.Where(d => d.Value.Applies).Select(d => d.Value.Toxic).ToHashSet();
        foreach (var name in _draws.Keys.Where(n => toxics.All(t => t.Name != n)).ToList())
            _draws.Remove(name);
        foreach (var toxic in toxics)
            if (!_draws.TryGetValue(toxic.Name, out var draw) || draw.Toxic != toxic)
                _draws[toxic.Name] = (toxic, toxic.Toxicity >= 1 || _random.NextDouble() < toxic.Toxicity);
        var active = _draws.Values.Where(d => d.Applies).Select(d => d.Toxic).ToList();

        if (active.Any(t => t.Kind is ToxicKind.Down)) { Abort("the link is down"); return; }

        // Timers of toxics that left (or changed), then of toxics that arrived.
        foreach (var gone in previous.Where(p => !active.Contains(p)))
        {
            Timers.Cancel(new StallExpired(gone.Name));
            Timers.Cancel(new ResetDue(gone.Name));
        }
        foreach (var added in active.Where(a => !previous.Contains(a)))
        {
            if (added.Kind is ToxicKind.Timeout { TimeoutMs: > 0 } stall)
                Timers.StartSingleTimer(new StallExpired(added.Name), new StallExpired(added.Name), TimeSpan.FromMilliseconds(stall.TimeoutMs));
            if (added.Kind is ToxicKind.ResetPeer reset)
                Timers.StartSingleTimer(new ResetDue(added.Name), new ResetDue(added.Name), TimeSpan.FromMilliseconds(reset.TimeoutMs));
        }

        foreach (var pipe in new[] { _up, _down })
        {
            pipe.Shaper.SetToxics(active.Where(t => t.Stream == pipe.Stream), Now);
            Pump(pipe);
            ReadMore(pipe);
        }
    }

    /// <summary>Writes the next piece the shaper allows, or arms the wake-up timer for it.</summary>
    private void Pump(Pipe pipe)
    {
        if (pipe.InFlight > 0 || pipe.DestinationEnded || _finished) return;
        var step = pipe.Shaper.Next(Now);
        switch (step.Action)
        {
            case ShaperAction.Write:
                Timers.Cancel(pipe.WakeUp);
                pipe.InFlight = step.Data!.Count;
                pipe.CloseAfterWrite = step.CloseAfter;
                pipe.Destination.Tell(Tcp.Write.Create(step.Data, pipe.Ack));
                break;
            case ShaperAction.Wait:
                Timers.StartSingleTimer(pipe.WakeUp, pipe.WakeUp, step.At - Now);
                break;
            case ShaperAction.Close:
                Close($"limit_data reached {Toxic.StreamName(pipe.Stream)}");
                break;
            case ShaperAction.Idle:
                Finish(pipe);
                break;
            case ShaperAction.Stalled:
                Timers.Cancel(pipe.WakeUp);
                break;
        }
    }

    private void Written(Pipe pipe)
    {
        _counters.Moved(pipe.Stream, pipe.InFlight);
        _counters.BufferChanged(-pipe.InFlight);
        pipe.InFlight = 0;
        if (pipe.CloseAfterWrite)
        {
            Close($"limit_data reached {Toxic.StreamName(pipe.Stream)}");
            return;
        }
        Pump(pipe);
        ReadMore(pipe);
    }

    /// <summary>Pull mode: one more read from the source while the pipe holds less than its bound and is not stalled.</summary>
    private void ReadMore(Pipe pipe)
    {
        if (pipe.ReadRequested || pipe.SourceEnded || _finished || pipe.Shaper.IsStalled) return;
        if (pipe.Shaper.QueuedBytes >= _settings.MaxBufferedBytes) return;
        pipe.ReadRequested = true;
        pipe.Source.Tell(Tcp.ResumeReading.Instance);
    }

    /// <summary>A direction whose source sent FIN and whose bytes are all written passes the FIN on; when both have, the pair closes.</summary>
    private void Finish(Pipe pipe)
    {
        if (!pipe.SourceEnded || pipe.InFlight > 0 || pipe.Shaper.QueuedBytes > 0 || pipe.DestinationEnded || _finished) return;
        var other = pipe == _up ? _down : _up;
        pipe.DestinationEnded = true;
        if (other.DestinationEnded)
        {
            // Both directions are over: close whatever is still open.
            _finished = true;
            TellOpen(Tcp.Close.Instance);
            StartClosing();
            return;
        }
        // Half-close: FIN to the destination; it may still send to us until it closes too.
        pipe.Destination.Tell(Tcp.ConfirmedClose.Instance);
    }

    private void Close(string reason)
    {
        if (_finished) return;
        _log.Debug("{0}: closing ({1})", Endpoints.Format(_clientAddress), reason);
        _finished = true;
        TellOpen(Tcp.Close.Instance);
        StartClosing();
    }

    private void Abort(string reason)
    {
        if (_finished) { Context.Stop(Self); return; }
        _log.Debug("{0}: resetting ({1})", Endpoints.Format(_clientAddress), reason);
        _finished = true;
        TellOpen(Tcp.Abort.Instance);
        Context.Stop(Self);
    }

    /// <summary>Close or reset the sockets that are still open.</summary>
    private void TellOpen(Tcp.Command command)
    {
        foreach (var socket in new[] { _client, _targetConnection })
            if (!socket.IsNobody() && !_closed.Contains(socket)) socket.Tell(command);
    }

    private void StartClosing()
    {
        Timers.CancelAll();
        Timers.StartSingleTimer(CloseTimeout.Instance, CloseTimeout.Instance, TimeSpan.FromSeconds(5));
        Become(Closing);
    }
}
