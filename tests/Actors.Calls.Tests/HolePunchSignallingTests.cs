using Actors.Calls.Protocol;
using Actors.Calls.Tests.Support;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>
/// The rendezvous's side of hole punching, spoken to with raw frames on loopback: who is told to
/// punch (two unreachable version-2 callers), with what (each other's observed address, one
/// token, the attempt plan), who is not (version 1, or punching off), and that a punch reported
/// lost moves the call to a relay. The punch itself through real NATs: Nat/NatMatrix.cs.
/// </summary>
public sealed class HolePunchSignallingTests : IDisposable
{
    private readonly CallLab _lab = new();

    public void Dispose() => _lab.Dispose();

    private int Start(bool holePunch = true)
    {
        var (node, port) = _lab.Rendezvous(s => s with { HolePunch = holePunch, PunchAttempts = 2, PunchAttemptTimeoutOrNull = TimeSpan.FromMilliseconds(700) });
        _lab.Relay(node: node);
        CallLab.WaitForRelays(node, 1);
        return port;
    }

    private static RawClient Registered(int port, string id, ushort version)
    {
        var client = new RawClient(port);
        Assert.IsType<Registered>(client.Register(id, $"{id}-secret", version: version));
        Assert.IsType<ReachabilityResult>(client.Next());
        return client;
    }

    private static (T Alice, T Bob) Answered<T>(RawClient alice, RawClient bob) where T : CallMessage
    {
        alice.Send(new PlaceCall("c1", "bob"));
        Assert.Equal("c1", bob.Next<Ring>()!.CallId);
        bob.Send(new Accept("c1"));
        return (alice.Next<T>()!, bob.Next<T>()!);
    }

    [Fact]
    public void Two_unreachable_version_2_callers_are_told_to_punch_each_others_observed_port_and_fall_back_to_a_relay()
    {
        var port = Start();
        using var alice = Registered(port, "alice", 2);
        using var bob = Registered(port, "bob", 2);
        // Version 2: the rendezvous times its round trip to us with a Ping right after registering.
        Assert.NotNull(alice.Next<Ping>());
        Assert.NotNull(bob.Next<Ping>());

        var (toAlice, toBob) = Answered<Punch>(alice, bob);
        Assert.Equal(PathRole.Dial, toAlice.Role);  // the caller sends Join on the punched connection
        Assert.Equal(PathRole.Await, toBob.Role);
        Assert.Equal(bob.LocalPort, toAlice.Port);  // each dials the port the rendezvous saw the other come from
        Assert.Equal(alice.LocalPort, toBob.Port);
        Assert.Equal("127.0.0.1", toAlice.Host);
        Assert.Equal(toAlice.Token, toBob.Token);
        Assert.Equal(32, toAlice.Token.Length);
        Assert.Equal((2, 700), (toAlice.Attempts, toAlice.AttemptMs));
        Assert.Equal((2, 700), (toBob.Attempts, toBob.AttemptMs));
        Assert.True(toAlice.DelayMs < 1000 && toBob.DelayMs < 1000);

        // Both report the punch lost (as after their last attempt): one relay path, issued once.
        alice.Send(new PathLost("c1", toAlice.Token));
        bob.Send(new PathLost("c1", toBob.Token));
        var relayA = alice.Next<Connect>()!;
        var relayB = bob.Next<Connect>()!;
        Assert.Equal((PathKind.Relay, PathRole.Dial), (relayA.Path, relayA.Role));
        Assert.Equal((PathKind.Relay, PathRole.Dial), (relayB.Path, relayB.Role));
        Assert.NotEqual(relayA.Token, relayB.Token);
        alice.Send(new Ping(5));
        Assert.Equal(new Pong(5), alice.Next<Pong>());
    }

    [Fact]
    public void Version_1_callers_are_never_asked_to_punch_nor_pinged()
    {
        var port = Start();
        using var alice = Registered(port, "alice", 1);
        using var bob = Registered(port, "bob", 2);
        alice.Send(new PlaceCall("c1", "bob"));
        Assert.Equal("c1", bob.Next<Ring>()!.CallId);
        bob.Send(new Accept("c1"));
        // A version-1 client gets nothing new (no Ping, no Punch): the very next frame is its relay path.
        var toAlice = Assert.IsType<Connect>(alice.Next());
        Assert.Equal(PathKind.Relay, toAlice.Path);
        Assert.Equal(PathKind.Relay, bob.Next<Connect>()!.Path);
    }

    [Fact]
    public void With_hole_punching_off_two_unreachable_callers_are_relayed()
    {
        var port = Start(holePunch: false);
        using var alice = Registered(port, "alice", 2);
        using var bob = Registered(port, "bob", 2);
        var (toAlice, toBob) = Answered<Connect>(alice, bob);
        Assert.Equal(PathKind.Relay, toAlice.Path);
        Assert.Equal(PathKind.Relay, toBob.Path);
    }

    [Fact]
    public void Version_2_is_accepted_and_versions_outside_1_to_2_are_refused()
    {
        var (_, port) = _lab.Rendezvous();
        foreach (var version in new ushort[] { 0, 3 })
        {
            using var client = new RawClient(port);
            client.Send(new Hello(version, "test"));
            var refused = Assert.IsType<Refused>(client.Next());
            Assert.Equal(RefusalCode.BadVersion, refused.Code);
            Assert.Contains("1–2", refused.Reason);
        }
        using var v2 = new RawClient(port);
        Assert.IsType<Registered>(v2.Register("carol", "carol-secret", version: 2));
    }
}
