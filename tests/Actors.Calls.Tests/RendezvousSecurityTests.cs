using System.Buffers.Binary;
using Actors.Calls.Protocol;
using Actors.Calls.Tests.Support;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>Bad input and abuse against a real rendezvous node, spoken to with raw frames.</summary>
public sealed class RendezvousSecurityTests : IDisposable
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
    private readonly CallLab _lab = new();
    private readonly int _port;

    public RendezvousSecurityTests()
    {
        (_, _port) = _lab.Rendezvous(s => s with
        {
            RingTimeoutOrNull = TimeSpan.FromSeconds(1),
            RegisterTimeoutOrNull = TimeSpan.FromMilliseconds(800),
        });
    }

    public void Dispose() => _lab.Dispose();

    private RawClient Registered(string id)
    {
        var client = new RawClient(_port);
        Assert.IsType<Registered>(client.Register(id, $"{id}-secret"));
        Assert.IsType<ReachabilityResult>(client.Next());
        return client;
    }

    [Fact]
    public void Wrong_secret_is_refused_and_the_connection_closed()
    {
        using var client = new RawClient(_port);
        var refused = Assert.IsType<Refused>(client.Register("alice", "not-alices-secret"));
        Assert.Equal(RefusalCode.AuthFailed, refused.Code);
        Assert.True(client.ClosedWithin(Short));
    }

    [Fact]
    public void Unknown_identity_is_refused()
    {
        using var client = new RawClient(_port);
        Assert.Equal(RefusalCode.AuthFailed, Assert.IsType<Refused>(client.Register("eve", "whatever")).Code);
    }

    [Fact]
    public void Register_without_hello_and_challenge_is_refused()
    {
        using var client = new RawClient(_port);
        client.Send(new Register("alice", new byte[32], 0));
        Assert.Equal(RefusalCode.Protocol, Assert.IsType<Refused>(client.Next()).Code);
        Assert.True(client.ClosedWithin(Short));
    }

    [Fact]
    public void A_proof_for_another_nonce_is_refused()
    {
        // Replaying a proof captured from an earlier registration does not work: every challenge is new.
        using var first = new RawClient(_port);
        first.Send(new Hello(FrameCodec.Version, "test"));
        var oldNonce = Assert.IsType<Challenge>(first.Next()).Nonce;
        using var second = new RawClient(_port);
        second.Send(new Hello(FrameCodec.Version, "test"));
        Assert.IsType<Challenge>(second.Next());
        second.Send(new Register("alice", CallAuth.Proof("alice-secret", oldNonce, "alice"), 0));
        Assert.Equal(RefusalCode.AuthFailed, Assert.IsType<Refused>(second.Next()).Code);
    }

    [Fact]
    public void Unsupported_protocol_version_is_refused()
    {
        using var client = new RawClient(_port);
        client.Send(new Hello(99, "future"));
        Assert.Equal(RefusalCode.BadVersion, Assert.IsType<Refused>(client.Next()).Code);
    }

    [Fact]
    public void Silent_connection_is_closed_after_the_registration_timeout()
    {
        using var client = new RawClient(_port);
        Assert.True(client.ClosedWithin(Short));
    }

    [Fact]
    public void Identity_cannot_be_taken_over_with_a_wrong_secret()
    {
        using var bob = Registered("bob");
        using var mallory = new RawClient(_port);
        // Mallory knows her own secret, not Bob's.
        Assert.IsType<Refused>(mallory.Register("bob", "mallory-secret"));
        // Bob is still the one who rings.
        using var alice = Registered("alice");
        alice.Send(new PlaceCall("c1", "bob"));
        Assert.Equal("alice", bob.Next<Ring>()!.Caller);
    }

    [Fact]
    public void Newest_authenticated_registration_wins_and_the_old_session_is_told()
    {
        using var bobOld = Registered("bob");
        using var bobNew = Registered("bob");
        Assert.IsType<Displaced>(bobOld.Next<Displaced>());
        Assert.True(bobOld.ClosedWithin(Short));
        using var alice = Registered("alice");
        Thread.Sleep(300); // let the withdrawal of the old session settle
        alice.Send(new PlaceCall("c1", "bob"));
        Assert.Equal("c1", bobNew.Next<Ring>()!.CallId);
    }

    [Fact]
    public void Oversized_frame_closes_only_that_connection()
    {
        using var good = Registered("alice");
        using var bad = Registered("bob");
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, 1 << 20);
        bad.SendRaw(header);
        Assert.True(bad.ClosedWithin(Short));
        good.Send(new Ping(7));
        Assert.Equal(7, good.Next<Pong>()!.Nonce);
    }

    [Fact]
    public void Malformed_frame_closes_only_that_connection()
    {
        using var good = Registered("alice");
        using var bad = Registered("bob");
        bad.SendRaw([0, 0, 0, 3, 0xEE, 1, 2]);
        Assert.True(bad.ClosedWithin(Short));
        good.Send(new Ping(8));
        Assert.Equal(8, good.Next<Pong>()!.Nonce);
    }

    [Fact]
    public void Call_flood_is_rate_limited()
    {
        using var alice = Registered("alice");
        for (var i = 0; i < 20; i++) alice.Send(new PlaceCall($"c{i}", "carol"));
        var outcomes = Enumerable.Range(0, 20).Select(_ => alice.Next<CallEnded>()!.Outcome).ToList();
        Assert.True(outcomes.Count(o => o == CallOutcome.RateLimited) >= 14, string.Join(",", outcomes));
        Assert.Contains(CallOutcome.Offline, outcomes); // the first few went through (carol is not registered)
    }

    [Fact]
    public void Calling_someone_not_registered_ends_offline()
    {
        using var alice = Registered("alice");
        alice.Send(new PlaceCall("c1", "carol"));
        var ended = alice.Next<CallEnded>()!;
        Assert.Equal(CallOutcome.Offline, ended.Outcome);
    }

    [Fact]
    public void Unanswered_call_times_out_on_both_sides()
    {
        using var bob = Registered("bob");
        using var alice = Registered("alice");
        alice.Send(new PlaceCall("c1", "bob"));
        Assert.NotNull(bob.Next<Ring>());
        Assert.Equal(CallOutcome.NoAnswer, alice.Next<CallEnded>()!.Outcome);
        Assert.Equal(CallOutcome.NoAnswer, bob.Next<CallEnded>()!.Outcome);
    }

    [Fact]
    public void Rejected_call_ends_rejected_for_the_caller()
    {
        using var bob = Registered("bob");
        using var alice = Registered("alice");
        alice.Send(new PlaceCall("c1", "bob"));
        bob.Send(new Reject(bob.Next<Ring>()!.CallId, "busy"));
        var ended = alice.Next<CallEnded>()!;
        Assert.Equal(CallOutcome.Rejected, ended.Outcome);
        Assert.Contains("busy", ended.Detail);
    }

    [Fact]
    public void Caller_can_cancel_a_ringing_call()
    {
        using var bob = Registered("bob");
        using var alice = Registered("alice");
        alice.Send(new PlaceCall("c1", "bob"));
        Assert.NotNull(bob.Next<Ring>());
        alice.Send(new Cancel("c1"));
        Assert.Equal(CallOutcome.Cancelled, bob.Next<CallEnded>()!.Outcome);
    }
}
