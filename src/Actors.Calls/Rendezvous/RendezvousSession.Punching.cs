using Actors.Calls.Telemetry;
using Actors.Net.Telemetry;
using Actors.Calls.Protocol;
using Akka.Actor;
using Akka.Event;

namespace Actors.Calls.Rendezvous;

/// <summary>
/// Hole-punch coordination (DCUtR-style): the round trip to a version-2 client, measured by
/// periodic pings, times the simultaneous open; <see cref="IssuePunch"/> tells both sides to dial
/// each other, <see cref="OfferUdp"/> hands both a key and an address for the UDP media path.
/// </summary>
public sealed partial class RendezvousSession
{
    private sealed class RttTick { public static readonly RttTick Instance = new(); }
    private static readonly TimeSpan RttInterval = TimeSpan.FromSeconds(10);

    /// <summary>The client speaks version 2: it answers our pings and understands <see cref="Punch"/>.</summary>
    private bool CanPunch => _version >= 2;

    private void OnPong(Pong pong)
    {
        var sample = System.Diagnostics.Stopwatch.GetElapsedTime(pong.Nonce).TotalMilliseconds;
        if (sample < 0 || sample > 60_000) return; // not one of our nonces
        // Smoothed like TCP's SRTT, so one slow round trip does not skew the punch timing.
        _rttMs = _rttMs is { } rtt ? rtt + (sample - rtt) / 4 : sample;
    }

    /// <summary>
    /// Both callers speak version 2: whatever the TCP path, they may also punch a UDP path for the
    /// media. Each gets the call's fresh key and the other's observed address, with the port of
    /// its rendezvous connection (a port-preserving NAT maps the caller's UDP socket on the same
    /// port number the same way).
    /// </summary>
    private void OfferUdp(OwnedCall call, PresenceEntry me, CallAnswered answer)
    {
        var key = UdpMediaCodec.NewKey();
        Send(new UdpOffer(call.CallId, key, answer.CalleeHost, (ushort)answer.CalleeObservedPort, UdpSender.Caller));
        answer.CalleeSession.Tell(new UdpOffered(call.CallId, new UdpOffer(call.CallId, key, me.ObservedHost, (ushort)_remote.Port, UdpSender.Callee)));
    }

    /// <summary>
    /// Neither side can be dialled: tell both to dial each other's observed address at the same
    /// moment (DCUtR's synchronisation, with the rendezvous's own round-trip measurements in place
    /// of a relayed RTT exchange). The instruction to the side nearer the rendezvous is delayed by
    /// half the difference of the round trips, so both SYNs leave together. Either side that gets
    /// no connection after all attempts reports PathLost, and Repath moves the call to a relay.
    /// </summary>
    private void IssuePunch(OwnedCall call, PresenceEntry me, CallAnswered answer)
    {
        var token = CallAuth.RandomId();
        var callerRtt = _rttMs ?? 0;
        var calleeRtt = answer.CalleeRttMs;
        ushort Delay(double mine, double theirs) => (ushort)Math.Clamp(Math.Round((theirs - mine) / 2), 0, 5000);
        var attempts = (byte)_settings.PunchAttempts;
        var attemptMs = (ushort)_settings.PunchAttemptTimeout.TotalMilliseconds;
        var toCaller = new Punch(call.CallId, PathRole.Dial, answer.CalleeHost, (ushort)answer.CalleeObservedPort, token, Delay(callerRtt, calleeRtt), attempts, attemptMs);
        var toCallee = new Punch(call.CallId, PathRole.Await, me.ObservedHost, (ushort)_remote.Port, token, Delay(calleeRtt, callerRtt), attempts, attemptMs);
        call.Path = PathKind.HolePunch;
        call.Repathing = false;
        call.Tokens.Clear();
        call.Tokens.Add(token);
        _log.Info("Call {0} {1} → {2}: path HolePunch {3} (rtt {4})", call.CallId, _id, call.Callee,
            $"{me.ObservedHost}:{_remote.Port} ↔ {answer.CalleeHost}:{answer.CalleeObservedPort}", $"{callerRtt:F1} / {calleeRtt:F1} ms");
        Send(toCaller);
        answer.CalleeSession.Tell(new PunchChosen(call.CallId, toCallee));
        CallsMetrics.PathIssued(PathKind.HolePunch);
        Context.System.EventStream.Publish(new RoleEvent("call-placed", $"call {call.CallId} {_id} → {call.Callee}: {PathKind.HolePunch}"));
    }
}
