using Actors.Calls.Caller;
using Actors.Calls.Rendezvous;
using Actors.Calls.Tests.Support;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Calls.Tests.Caller;

/// <summary>
/// A caller that loses its rendezvous mid-call: the call goes on over its media connection, and
/// the caller registers again — at the same node, or at the next of its rendezvous addresses.
/// </summary>
public sealed class RendezvousReconnectTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static CallerSettings Fast(CallerSettings settings, params int[] more) => settings with
    {
        MoreRendezvous = more.Select(p => ("127.0.0.1", p)).ToList(),
        BackoffMinOrNull = TimeSpan.FromMilliseconds(100),
        BackoffMaxOrNull = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public void Caller_whose_rendezvous_connection_drops_mid_call_keeps_the_call_and_registers_again()
    {
        using var lab = new CallLab();
        var (node, port) = lab.Rendezvous();
        var probe = Subscribe(lab);

        lab.StartCaller(CallLab.Caller("bob", port, listen: true, autoAnswer: true));
        probe.FishForMessage<CallerRegistered>(r => r.Id == "bob", Wait);
        lab.StartCaller(Fast(CallLab.Caller("alice", port, call: "bob", durationS: 4)));
        probe.FishForMessage<CallerRegistered>(r => r.Id == "alice", Wait);
        ExpectPaths(probe);
        Thread.Sleep(500);

        // The rendezvous drops alice's connection (as a crashed session or a network blip would).
        var aliceSession = SessionOf(node, "alice");
        node.ActorSelection(aliceSession).Tell(PoisonPill.Instance);

        var lost = probe.FishForMessage<RendezvousConnectionLost>(_ => true, Wait);
        Assert.Equal("alice", lost.Id);
        probe.FishForMessage<CallerRegistered>(r => r.Id == "alice", Wait);
        Assert.NotEqual(aliceSession, SessionOf(node, "alice"));

        var (alice, bob) = Summaries(probe);
        AssertCallWentOn(alice, bob, seconds: 4);
    }

    [Fact]
    public async Task Caller_given_two_rendezvous_nodes_registers_at_the_other_when_its_node_goes_and_keeps_the_call()
    {
        using var lab = new CallLab();
        var (first, port1) = lab.Rendezvous();
        var (second, port2) = lab.Rendezvous();
        var probe = Subscribe(lab);

        lab.StartCaller(CallLab.Caller("bob", port2, listen: true, autoAnswer: true));
        probe.FishForMessage<CallerRegistered>(r => r.Id == "bob", Wait);
        AwaitCondition(() => Presence(first, "bob") is not null, Wait); // presence reaches the other node
        lab.StartCaller(Fast(CallLab.Caller("alice", port1, call: "bob", durationS: 5), port2));
        probe.FishForMessage<CallerRegistered>(r => r.Id == "alice", Wait);
        ExpectPaths(probe);
        Assert.Equal(Akka.Cluster.Cluster.Get(first).SelfAddress.ToString(), Presence(second, "alice")!.NodeAddress);
        Thread.Sleep(500);

        // alice's rendezvous node goes away; bob's session, on the other node, watched hers.
        await first.Terminate().WaitAsync(Wait);

        probe.FishForMessage<RendezvousConnectionLost>(l => l.Id == "alice", Wait);
        probe.FishForMessage<CallerRegistered>(r => r.Id == "alice", Wait);
        AwaitCondition(() => Presence(second, "alice")?.NodeAddress == Akka.Cluster.Cluster.Get(second).SelfAddress.ToString(), Wait);

        var (alice, bob) = Summaries(probe);
        AssertCallWentOn(alice, bob, seconds: 5);
    }

    /// <summary>Both sides have media flowing (a call that ends first fails the test with its summary).</summary>
    private void ExpectPaths(TestProbe probe)
    {
        var deadline = DateTime.UtcNow + Wait;
        for (var paths = 0; paths < 2;)
        {
            Assert.True(DateTime.UtcNow < deadline, "no media path within the wait");
            if (_summaries.HasMessages) Assert.Fail($"the call ended before media flowed: {_summaries.ReceiveOne()}");
            switch (probe.ReceiveOne(TimeSpan.FromMilliseconds(200)))
            {
                case PathEstablished: paths++; break;
                case CallerStopped stopped: Assert.Fail($"caller stopped: {stopped}"); break;
            }
        }
    }

    private static void AssertCallWentOn(CallSummary alice, CallSummary bob, double seconds)
    {
        Assert.True(alice.Result == "completed" && bob.Result == "completed", $"alice: {alice}\nbob: {bob}");
        Assert.Equal(0, alice.PathChanges);
        Assert.Equal(0, bob.PathChanges);
        Assert.True(alice.DurationS >= seconds - 0.5, $"alice's call lasted {alice.DurationS}s");
        // Media kept flowing through the outage: every frame sent arrived (20 ms frames; slack for timers).
        Assert.True(bob.FramesReceived >= seconds * 50 * 0.6, $"bob received {bob.FramesReceived} frames");
        Assert.True(bob.Loss < 0.02 && alice.Loss < 0.02, $"loss: alice {alice.Loss}, bob {bob.Loss}");
    }

    private static PresenceEntry? Presence(ActorSystem node, string id) =>
        node.ActorSelection("/user/rendezvous/presence")
            .Ask<PresenceDirectory.LookupResult>(new PresenceDirectory.Lookup(id, id), TimeSpan.FromSeconds(5)).Result.Entry;

    private static string SessionOf(ActorSystem node, string id) => Presence(node, id)!.SessionPath;

    private TestProbe Subscribe(CallLab lab)
    {
        var probe = CreateTestProbe(lab.Callers);
        foreach (var type in new[] { typeof(CallerRegistered), typeof(PathEstablished), typeof(RendezvousConnectionLost), typeof(CallerStopped) })
            lab.Callers.EventStream.Subscribe(probe.Ref, type);
        _summaries = CreateTestProbe(lab.Callers);
        lab.Callers.EventStream.Subscribe(_summaries.Ref, typeof(CallSummary));
        return probe;
    }

    private TestProbe _summaries = null!;

    private (CallSummary Alice, CallSummary Bob) Summaries(TestProbe _)
    {
        var first = _summaries.ExpectMsg<CallSummary>(Wait);
        var second = _summaries.ExpectMsg<CallSummary>(Wait);
        return first.Id == "alice" ? (first, second) : (second, first);
    }
}
