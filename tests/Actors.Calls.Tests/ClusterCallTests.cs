using Actors.Calls.Caller;
using Actors.Calls.Relay;
using Actors.Calls.Tests.Support;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>Several cluster nodes in one process: presence across rendezvous nodes, relay failover.</summary>
public sealed class ClusterCallTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public void Caller_registered_at_one_rendezvous_is_called_through_another_via_a_relay_on_a_third_node()
    {
        using var lab = new CallLab();
        var (r1, port1) = lab.Rendezvous();
        var (_, port2) = lab.Rendezvous();
        lab.Relay();
        CallLab.WaitForRelays(r1, 1);
        var probe = Subscribe(lab);

        lab.StartCaller(CallLab.Caller("bob", port2, autoAnswer: true));
        probe.ExpectMsg<CallerRegistered>(Wait);
        Thread.Sleep(500); // presence reaches the other node (WriteAll, then gossip as a fallback)
        // 3 s from alice's media flowing. Bob counts frames only from his own join to the relay: in a
        // loaded fresh-clone suite run he counted 21 of a 1.5 s call's ~75, a second or so late.
        lab.StartCaller(CallLab.Caller("alice", port1, call: "bob", durationS: 3));
        probe.ExpectMsg<CallerRegistered>(Wait);
        var (alice, bob) = Summaries(probe);
        Assert.Equal("completed", alice.Result);
        Assert.Equal("relay", alice.Path);
        Assert.Equal("relay", bob.Path);
        Assert.True(bob.FramesReceived > 30, $"bob received {bob.FramesReceived} frames");
    }

    [Fact]
    public async Task Call_whose_relay_dies_resumes_through_another_relay()
    {
        using var lab = new CallLab();
        var (rendezvous, port) = lab.Rendezvous();
        var relayA = lab.Relay();
        var relayB = lab.Relay();
        CallLab.WaitForRelays(rendezvous, 2);
        var probe = Subscribe(lab);
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(PathEstablished));

        lab.StartCaller(CallLab.Caller("bob", port, autoAnswer: true));
        probe.ExpectMsg<CallerRegistered>(Wait);
        lab.StartCaller(CallLab.Caller("alice", port, call: "bob", durationS: 5));
        probe.ExpectMsg<CallerRegistered>(Wait);
        probe.ExpectMsg<PathEstablished>(Wait);
        probe.ExpectMsg<PathEstablished>(Wait);
        Thread.Sleep(1000);

        // Kill whichever relay carries the call.
        var carrying = Sessions(relayA.Server) > 0 ? relayA : relayB;
        var spare = carrying == relayA ? relayB : relayA;
        await carrying.Node.Terminate().WaitAsync(TimeSpan.FromSeconds(15));

        // Both sides get a new path, through the other relay, and the call completes.
        probe.ExpectMsg<PathEstablished>(Wait);
        probe.ExpectMsg<PathEstablished>(Wait);
        Assert.True(Sessions(spare.Server) > 0, "the spare relay does not carry the call");
        var (alice, bob) = Summaries(probe);
        Assert.Equal("completed", alice.Result);
        Assert.Equal("relay", alice.Path);
        Assert.Equal(1, alice.PathChanges);
        Assert.Equal(1, bob.PathChanges);
        Assert.True(bob.FramesReceived > 100, $"bob received {bob.FramesReceived} frames");
    }

    private static int Sessions(IActorRef relay) =>
        relay.Ask<RelayServer.Stats>(RelayServer.GetStats.Instance, TimeSpan.FromSeconds(5)).Result.Paired;

    private Akka.TestKit.TestProbe Subscribe(CallLab lab)
    {
        var probe = CreateTestProbe(lab.Callers);
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(CallerRegistered));
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(CallSummary));
        return probe;
    }

    private static (CallSummary Alice, CallSummary Bob) Summaries(Akka.TestKit.TestProbe probe)
    {
        var first = probe.FishForMessage<CallSummary>(_ => true, Wait);
        var second = probe.FishForMessage<CallSummary>(_ => true, Wait);
        return first.Id == "alice" ? (first, second) : (second, first);
    }
}
