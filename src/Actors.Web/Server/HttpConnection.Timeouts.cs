using System.Diagnostics;
using Actors.Net.Tcp;
using Akka.Event;

namespace Actors.Web.Server;

/// <summary>
/// Timeouts: the idle, header, handler and write deadlines, one at a time, checked by one timer
/// that is only re-armed when the deadline moves earlier than the moment it will fire (moving it
/// later costs nothing: the tick re-arms).
/// </summary>
public sealed partial class HttpConnection
{
    private enum Deadline { None, Idle, Header, Handler, Write }

    private sealed class Tick { public static readonly Tick Instance = new(); }

    private static readonly TimeSpan HandlerTimeout = TimeSpan.FromSeconds(10);

    private Deadline _deadline = Deadline.None;
    private long _deadlineAt;
    private long _tickAt = long.MaxValue;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private void SetDeadline(Deadline deadline, TimeSpan timeout)
    {
        _deadline = deadline;
        _deadlineAt = TimestampAfter(timeout);
        if (_deadlineAt < _tickAt) ArmTick(timeout);
    }

    private static long TimestampAfter(TimeSpan delay) => Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);

    private void ArmTick(TimeSpan delay)
    {
        _tickAt = TimestampAfter(delay);
        Timers.StartSingleTimer(Tick.Instance, Tick.Instance, delay);
    }

    /// <summary>A tick before the deadline (it moved later since the timer was set) re-arms for the rest: true when it did.</summary>
    private bool RearmedBeforeDeadline()
    {
        _tickAt = long.MaxValue;
        var now = Stopwatch.GetTimestamp();
        if (now >= _deadlineAt) return false;
        ArmTick(TimeSpan.FromSeconds((double)(_deadlineAt - now) / Stopwatch.Frequency));
        return true;
    }

    private void OnTick()
    {
        if (RearmedBeforeDeadline()) return;
        switch (_deadline)
        {
            case Deadline.Idle when _phase == Phase.Idle:
                // Idle keep-alive connection: close quietly, as nginx and Kestrel do.
                Close();
                break;
            case Deadline.Header when _phase == Phase.Idle:
                Log.Info("{0} sent no complete request header within {1}: 408", Endpoints.Format(_remote), _settings.HeaderTimeout);
                StartResponse(null, ResponsePlan.Error(408), close: true);
                break;
            case Deadline.Handler when _phase == Phase.AwaitingHandler:
                StartResponse(_request, ResponsePlan.Error(503), close: true);
                break;
            case Deadline.Write when Unconfirmed > 0:
                Log.Info("{0} stopped reading for {1}: aborting", Endpoints.Format(_remote), _settings.WriteTimeout);
                Abort();
                break;
            default:
                // The deadline belonged to a phase already left; keep a timer running regardless.
                SetDeadline(_phase == Phase.Idle ? Deadline.Idle : Deadline.Write,
                    _phase == Phase.Idle ? _settings.IdleTimeout : _settings.WriteTimeout);
                break;
        }
    }
}
