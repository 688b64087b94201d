using Actors.Calls.Caller;
using Actors.Calls.Tests.Support;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>Every call path end to end on loopback: rendezvous, relay and two callers in-process.</summary>
public sealed class CallPathTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public void Callee_that_is_reachable_is_called_directly()
    {
        using var lab = new CallLab();
        var (_, port) = lab.Rendezvous();
        var (alice, bob) = Call(lab, port, aliceListens: true, bobListens: true);
        Assert.Equal("direct", alice.Path);
        Assert.Equal("direct", bob.Path);
        AssertGoodCall(alice, bob);
    }

    [Fact]
    public void Unreachable_callee_connects_back_to_a_reachable_caller()
    {
        using var lab = new CallLab();
        var (_, port) = lab.Rendezvous();
        var (alice, bob) = Call(lab, port, aliceListens: true, bobListens: false);
        Assert.Equal("reverse", alice.Path);
        Assert.Equal("reverse", bob.Path);
        AssertGoodCall(alice, bob);
    }

    [Fact]
    public void Two_unreachable_callers_talk_through_a_relay()
    {
        using var lab = new CallLab();
        var (node, port) = lab.Rendezvous();
        lab.Relay(node: node);
        CallLab.WaitForRelays(node, 1);
        var (alice, bob) = Call(lab, port, aliceListens: false, bobListens: false);
        Assert.Equal("relay", alice.Path);
        Assert.Equal("relay", bob.Path);
        AssertGoodCall(alice, bob);
    }

    private (CallSummary Alice, CallSummary Bob) Call(CallLab lab, int port, bool aliceListens, bool bobListens)
    {
        var probe = CreateTestProbe(lab.Callers);
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(CallerRegistered));
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(CallSummary));
        lab.StartCaller(CallLab.Caller("bob", port, listen: bobListens, autoAnswer: true));
        var bobRegistered = probe.ExpectMsg<CallerRegistered>(Wait);
        Assert.Equal(bobListens, bobRegistered.Reachable);
        lab.StartCaller(CallLab.Caller("alice", port, listen: aliceListens, call: "bob", durationS: 1.5));
        var aliceRegistered = probe.ExpectMsg<CallerRegistered>(Wait);
        Assert.Equal(aliceListens, aliceRegistered.Reachable);
        var first = probe.ExpectMsg<CallSummary>(Wait);
        var second = probe.ExpectMsg<CallSummary>(Wait);
        var alice = first.Id == "alice" ? first : second;
        var bob = first.Id == "bob" ? first : second;
        return (alice, bob);
    }

    private static void AssertGoodCall(CallSummary alice, CallSummary bob)
    {
        Assert.Equal("completed", alice.Result);
        Assert.Equal("completed", bob.Result);
        Assert.Equal("caller", alice.Role);
        Assert.Equal("callee", bob.Role);
        Assert.Equal(alice.CallId, bob.CallId);
        // 1.5 s of 20 ms frames is 75; allow for timer slack on a busy machine.
        Assert.InRange(bob.FramesReceived, 30, 100);
        Assert.InRange(alice.FramesReceived, 30, 100);
        Assert.True(alice.Loss < 0.05, $"loss {alice.Loss}");
        Assert.NotNull(alice.RttMs);
        Assert.NotNull(alice.SetupMs);
        Assert.True(alice.BytesSent > 0 && bob.BytesReceived > 0);
    }
}
