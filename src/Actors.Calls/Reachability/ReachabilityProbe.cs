using System.Net;
using Actors.Calls.Protocol;
using Actors.Calls.Transport;
using Actors.Net.Tcp;
using Akka.Actor;

namespace Actors.Calls.Reachability;

/// <summary>
/// Dials a caller back at its observed address and advertised listen port (like AutoNAT): the
/// caller is reachable only if the connection opens within the timeout and the caller echoes our
/// random nonce — so an unrelated service on that port does not count. Reports one
/// <see cref="ProbeResult"/> to its parent, then stops.
/// </summary>
public sealed class ReachabilityProbe : ReceiveActor, IWithTimers
{
    public sealed record ProbeResult(bool Reachable, string Host, int Port, string Detail);
    private sealed class Deadline { public static readonly Deadline Instance = new(); }

    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _timeout;
    private readonly byte[] _nonce = CallAuth.NewNonce();
    private bool _done;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string host, int port, TimeSpan timeout) =>
        Akka.Actor.Props.Create(() => new ReachabilityProbe(host, port, timeout));

    public ReachabilityProbe(string host, int port, TimeSpan timeout)
    {
        _host = host;
        _port = port;
        _timeout = timeout;
        Receive<FrameConnection.Connected>(c => c.Connection.Tell(new FrameConnection.Send(new Probe(_nonce))));
        Receive<FrameConnection.ConnectFailed>(f => Finish(false, f.Reason));
        Receive<FrameConnection.Received>(r =>
        {
            if (r.Message is ProbeReply reply && reply.Nonce.AsSpan().SequenceEqual(_nonce)) Finish(true, "answered the probe");
            else Finish(false, $"answered {r.Message.GetType().Name} instead of the probe");
        });
        Receive<FrameConnection.Closed>(c => Finish(false, c.Reason));
        Receive<Deadline>(_ => Finish(false, $"no answer within {_timeout}"));
    }

    protected override void PreStart()
    {
        Context.ActorOf(FrameConnection.Dial(new IPEndPoint(IPAddress.Parse(_host), _port),
            new FrameConnectionSettings(MaxFrame: 1024, ConnectTimeout: _timeout)), "dial");
        Timers.StartSingleTimer(Deadline.Instance, Deadline.Instance, _timeout + _timeout);
    }

    private void Finish(bool reachable, string detail)
    {
        if (_done) return;
        _done = true;
        Context.Parent.Tell(new ProbeResult(reachable, _host, _port, detail));
        Context.Stop(Self);
    }
}
