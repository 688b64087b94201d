using System.Buffers.Binary;
using Actors.Calls.Protocol;
using Actors.Calls.Tests.Support;
using Akka.Actor;
using Xunit;

namespace Actors.Calls.Tests;

/// <summary>Bad input and abuse against a real rendezvous node, spoken to with raw frames.</summary>
public sealed class RendezvousSecurityTests : IDisposable
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(5);
    private readonly CallLab _lab = new();
    private readonly int _port;
    private readonly Akka.Actor.ActorSystem _node;

    public RendezvousSecurityTests()
    {
        (_node, _port) = _lab.Rendezvous(s => s with
        {
            RingTimeoutOrNull = TimeSpan.FromSeconds(1),
            RegisterTimeoutOrNull = TimeSpan.FromMilliseconds(800),
        });
    }

    public void Dispose() => _lab.Dispose();

    private RawClient Registered(string id, ushort listenPort = 0)
    {
        var client = new RawClient(_port);
        Assert.IsType<Registered>(client.Register(id, $"{id}-secret", listenPort));
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

    [Fact]
    public void A_third_user_who_knows_a_call_id_can_neither_end_nor_redirect_the_call()
    {
        // bob is reachable (his "listener" echoes the probe), so alice → bob is direct.
        using var bobListener = ProbeEcho.Start();
        using var bob = Registered("bob", bobListener.UPort);
        using var alice = Registered("alice");
        using var mallory = Registered("mallory");
        const string callId = "learned-call-id";
        alice.Send(new PlaceCall(callId, "bob"));
        Assert.Equal(callId, bob.Next<Ring>()!.CallId);
        bob.Send(new Accept(callId));
        var aliceConnect = alice.Next<Connect>()!;
        var bobConnect = bob.Next<Connect>()!;
        Assert.Equal(PathKind.Direct, aliceConnect.Path);

        // Mallory reuses the id towards both parties: each attempt is refused, clearly.
        foreach (var party in new[] { "bob", "alice" })
        {
            mallory.Send(new PlaceCall(callId, party));
            var refused = mallory.Next<CallEnded>()!;
            Assert.Equal(CallOutcome.Failed, refused.Outcome);
            Assert.Contains("in use", refused.Detail);
        }
        // ... and what she sends about it on her own connection concerns no call of hers.
        mallory.Send(new Cancel(callId));
        mallory.Send(new HangUp(callId, "bye"));
        mallory.Send(new PathLost(callId, aliceConnect.Token));
        mallory.Send(new PathLost(callId, bobConnect.Token));
        mallory.Send(new Ping(1));
        Assert.Equal(1, mallory.Next<Pong>()!.Nonce);

        // Neither party heard of her: no ring, no end, no new path. Past the ring timeout too.
        Thread.Sleep(1500);
        alice.Send(new Ping(2));
        Assert.Equal(new Pong(2), alice.Next());
        bob.Send(new Ping(3));
        Assert.Equal(new Pong(3), bob.Next());

        // The call is still alice's and bob's: her hang-up reaches him.
        alice.Send(new HangUp(callId, "done"));
        var ended = bob.Next<CallEnded>()!;
        Assert.Equal(CallOutcome.HungUp, ended.Outcome);
        Assert.Contains("alice", ended.Detail);
    }

    [Fact]
    public void Messages_about_a_call_from_a_session_that_is_not_its_other_party_are_ignored()
    {
        // What a session on another node would send if its client had reused the id: the parties'
        // sessions take such messages only from each other.
        using var bobListener = ProbeEcho.Start();
        using var bob = Registered("bob", bobListener.UPort);
        using var alice = Registered("alice");
        const string callId = "c-steer";
        alice.Send(new PlaceCall(callId, "bob"));
        bob.Next<Ring>();
        bob.Send(new Accept(callId));
        var aliceConnect = alice.Next<Connect>()!;
        bob.Next<Connect>();

        var presence = _node.ActorSelection("/user/rendezvous/presence");
        string SessionOf(string id) => presence.Ask<Actors.Calls.Rendezvous.PresenceDirectory.LookupResult>(
            new Actors.Calls.Rendezvous.PresenceDirectory.Lookup(id, id), Short).Result.Entry!.SessionPath;
        var bobSession = _node.ActorSelection(SessionOf("bob"));
        var aliceSession = _node.ActorSelection(SessionOf("alice"));
        var stranger = _node.ActorOf(Akka.Actor.Props.Empty, "stranger");

        bobSession.Tell(new Actors.Calls.Rendezvous.PathChosen(callId,
            new Connect(callId, PathKind.Relay, PathRole.Dial, "198.18.6.6", 9, "not-yours")), stranger);
        bobSession.Tell(new Actors.Calls.Rendezvous.CallClosed(callId, CallOutcome.HungUp, "a stranger hung up"), stranger);
        aliceSession.Tell(new Actors.Calls.Rendezvous.CallClosed(callId, CallOutcome.HungUp, "a stranger hung up"), stranger);
        aliceSession.Tell(new Actors.Calls.Rendezvous.PathBroken(callId, aliceConnect.Token), stranger);
        aliceSession.Tell(new Actors.Calls.Rendezvous.CallDeclined(callId, CallOutcome.Rejected, "a stranger declined"), stranger);

        // A re-path would find no relay here and fail the call after three 1 s retries: wait past that.
        Thread.Sleep(3500);
        alice.Send(new Ping(2));
        Assert.Equal(new Pong(2), alice.Next());
        bob.Send(new Ping(3));
        Assert.Equal(new Pong(3), bob.Next());
        alice.Send(new HangUp(callId, "done"));
        Assert.Equal(CallOutcome.HungUp, bob.Next<CallEnded>()!.Outcome);
    }

    /// <summary>A caller's listener reduced to what the rendezvous probe needs: echo the nonce.</summary>
    private sealed class ProbeEcho : IDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener = new(System.Net.IPAddress.Loopback, 0);
        private readonly Task _loop;

        private ProbeEcho()
        {
            _listener.Start();
            _loop = Task.Run(async () =>
            {
                try
                {
                    for (var i = 0; i < 10; i++)
                    {
                        using var socket = await _listener.AcceptTcpClientAsync();
                        var stream = socket.GetStream();
                        var header = new byte[4];
                        await stream.ReadExactlyAsync(header);
                        var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
                        if (body.Length > 1024) return;
                        await stream.ReadExactlyAsync(body);
                        var decoder = new FrameDecoder();
                        decoder.Feed(header);
                        decoder.Feed(body);
                        if (decoder.Next(out var message, out _) == DecodeStatus.Message && message is Probe probe)
                            await stream.WriteAsync(FrameCodec.Encode(new ProbeReply(probe.Nonce)));
                    }
                }
                catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or ObjectDisposedException) { }
            });
        }

        public int Port => ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;
        public ushort UPort => (ushort)Port;

        public static ProbeEcho Start() => new();

        public void Dispose()
        {
            _listener.Stop();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
