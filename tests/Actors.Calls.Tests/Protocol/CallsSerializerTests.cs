using Actors.Calls.Protocol;
using Actors.Calls.Relay;
using Actors.Calls.Rendezvous;
using Actors.Calls.Serialization;
using Actors.Calls.Tests.Support;
using Akka.Actor;
using Xunit;

namespace Actors.Calls.Tests.Protocol;

/// <summary>Every message that crosses nodes goes through the explicit serializer and survives the trip.</summary>
public sealed class CallsSerializerTests
{
    [Fact]
    public void Cross_node_messages_use_the_calls_serializer_and_round_trip()
    {
        using var lab = new CallLab();
        var node = lab.Node();
        var actor = node.ActorOf(Props.Empty, "someone");
        object[] messages =
        [
            new IncomingCall("c1", "alice", actor),
            new CallAnswered("c1", "bob", "198.18.1.2", 7600, true, actor),
            new CallAnswered("c1", "bob", "198.18.1.2", 0, false, actor, 40123, true, 12.5),
            new CallDeclined("c1", CallOutcome.Rejected, "busy"),
            new PathChosen("c1", new Connect("c1", PathKind.Relay, PathRole.Dial, "198.18.0.12", 7500, "tok")),
            new PunchChosen("c1", new Punch("c1", PathRole.Await, "198.18.1.1", 40999, "tok", 3, 3, 1200)),
            new UdpOffered("c1", new UdpOffer("c1", Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), "198.18.1.1", 40999, UdpSender.Callee)),
            new CallClosed("c1", CallOutcome.HungUp, "bye"),
            new PathBroken("c1", "tok"),
            new AllocateSession("c1"),
            new SessionAllocated("c1", "akka.tcp://actors@h:1", "198.18.0.12", 7500, "a", "b"),
            new AllocationRefused("c1", "full"),
            new PresenceEntry("bob", "akka.tcp://actors@h:1/user/x", "akka.tcp://actors@h:1", "198.18.1.2", 7600, true, 42),
            new RelayInfo("akka.tcp://actors@h:1", "akka.tcp://actors@h:1/user/relay", "198.18.0.12", 7500, 3, 100, 42),
        ];
        var serialization = node.Serialization;
        foreach (var message in messages)
        {
            var serializer = serialization.FindSerializerFor(message);
            Assert.IsType<CallsSerializer>(serializer);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            var back = serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
            Assert.Equal(Describe(message), Describe(back));
        }
    }

    private static string Describe(object o) => o switch
    {
        PathChosen p => $"PathChosen {p.CallId} {p.Instruction}",
        PunchChosen p => $"PunchChosen {p.CallId} {p.Instruction}",
        UdpOffered u => $"UdpOffered {u.CallId} {u.Offer.Host}:{u.Offer.Port} {u.Offer.Sender} {Convert.ToHexString(u.Offer.Key)}",
        _ => o.ToString()!,
    };

    [Fact]
    public void An_answer_from_a_node_without_hole_punching_reads_with_defaults()
    {
        using var lab = new CallLab();
        var node = lab.Node();
        var path = Akka.Serialization.Serialization.SerializedActorPath(node.ActorOf(Props.Empty, "someone"));
        // CallAnswered as a version-1 node writes it: none of the hole-punch fields.
        var old = System.Text.Encoding.UTF8.GetBytes($$"""{"CallId":"c1","CalleeId":"bob","CalleeHost":"198.18.1.2","CalleeListenPort":0,"CalleeReachable":false,"CalleeSession":"{{path}}"}""");
        var serializer = new CallsSerializer((ExtendedActorSystem)node);
        var answer = Assert.IsType<CallAnswered>(serializer.FromBinary(old, "CA"));
        Assert.Equal((0, false, 0.0), (answer.CalleeObservedPort, answer.CalleeCanPunch, answer.CalleeRttMs));
    }
}
