using System.Net;
using System.Net.Sockets;
using Actors.Calls.Caller;
using Actors.Calls.Protocol;
using Actors.Calls.Tests.Support;
using Actors.Calls.Transport;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;

namespace Actors.Calls.Tests.Caller;

/// <summary>
/// The UDP media path on loopback: the actor against a hand-driven peer socket (hole-punch
/// probes, forged, reflected and replayed datagrams), and two callers whose media goes over UDP.
/// </summary>
public sealed class UdpMediaPathTests() : TestKit("akka.io.udp.disabled-buffer-pool.buffer-size = 2048")
{
    private static readonly byte[] Key = UdpMediaCodec.NewKey();

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    [Fact]
    public void Only_authenticated_fresh_datagrams_from_the_peer_get_through()
    {
        using var peer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        peer.Client.ReceiveTimeout = 5000;
        var peerEndpoint = (IPEndPoint)peer.Client.LocalEndPoint!;
        var localPort = FreeUdpPort();
        DatagramMailbox.Ensure(Sys);
        ChildActorOf(UdpMediaPath.Props(Key, UdpSender.Caller, peerEndpoint, localPort));
        var codec = new UdpMediaCodec(Key);
        var target = new IPEndPoint(IPAddress.Loopback, localPort);

        // It probes the peer with authenticated Hellos.
        IPEndPoint? from = null;
        var hello = peer.Receive(ref from);
        Assert.Equal(UdpDecodeStatus.Ok, codec.Decode(hello, out var probe));
        Assert.Equal((UdpKind.Hello, UdpSender.Caller), (probe!.Kind, probe.Sender));

        // Junk, another call's key, and its own datagram reflected back: refused, no Up.
        peer.Send([1, 2, 3], target);
        peer.Send(new UdpMediaCodec(UdpMediaCodec.NewKey()).Encode(new UdpDatagram(UdpKind.Hello, UdpSender.Callee, 1, 0, 0, [])), target);
        peer.Send(hello, target);
        Assert.Equal(3, ExpectMsg<UdpMediaPath.Counters>(TimeSpan.FromSeconds(3)).Rejected);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));

        // A real Hello from the peer: up.
        peer.Send(codec.Encode(new UdpDatagram(UdpKind.Hello, UdpSender.Callee, 1, 0, 0, [])), target);
        ExpectMsg<UdpMediaPath.Up>();
        // A full-size datagram (Akka.IO's default 512-byte UDP buffers would cut it: the test kit's config sets 2048 like caller.conf).
        var media = codec.Encode(new UdpDatagram(UdpKind.Media, UdpSender.Callee, 2, 7, 123, new byte[UdpMediaCodec.MaxMediaPayload]));
        peer.Send(media, target);
        var received = ExpectMsg<UdpMediaPath.MediaReceived>();
        Assert.Equal((7u, 123L), (received.Seq, received.TimestampMicros));
        // The same datagram again (a replay) and an old number: dropped.
        peer.Send(media, target);
        peer.Send(codec.Encode(new UdpDatagram(UdpKind.Media, UdpSender.Callee, 1, 8, 124, [9])), target);
        var counters = FishForMessage<UdpMediaPath.Counters>(c => c.Replayed == 2, TimeSpan.FromSeconds(3));
        Assert.Equal(3, counters.Rejected);

        // Pings are answered with Pongs carrying the nonce. The path's Hellos (every 100 ms) and pings
        // queued on our socket since the start come first: on a loaded machine more than ten of them
        // (a fresh-clone run saw "no Pong" after ten), so the bound is time, not a small count.
        peer.Send(codec.Encode(new UdpDatagram(UdpKind.Ping, UdpSender.Callee, 3, 0, 4242, [])), target);
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 1000 && deadline.Elapsed < TimeSpan.FromSeconds(10); i++)
        {
            var reply = peer.Receive(ref from);
            if (codec.Decode(reply, out var d) == UdpDecodeStatus.Ok && d!.Kind == UdpKind.Pong) { Assert.Equal(4242, d.Value); return; }
        }
        Assert.Fail("no Pong");
    }

    [Fact]
    public void Silence_brings_the_path_down_and_no_answer_at_all_makes_it_unavailable()
    {
        using var peer = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var localPort = FreeUdpPort();
        peer.Client.ReceiveTimeout = 5000;
        DatagramMailbox.Ensure(Sys);
        ChildActorOf(UdpMediaPath.Props(Key, UdpSender.Callee, (IPEndPoint)peer.Client.LocalEndPoint!, localPort));
        var codec = new UdpMediaCodec(Key);
        IPEndPoint? from = null;
        peer.Receive(ref from); // its first probe: the socket is bound
        peer.Send(codec.Encode(new UdpDatagram(UdpKind.Hello, UdpSender.Caller, 1, 0, 0, [])), new IPEndPoint(IPAddress.Loopback, localPort));
        FishForMessage(m => m is UdpMediaPath.Up, TimeSpan.FromSeconds(3));
        FishForMessage(m => m is UdpMediaPath.Down, TimeSpan.FromSeconds(4));
        // Probing again for 5 s with no answer: unavailable.
        FishForMessage(m => m is UdpMediaPath.Unavailable, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Two_version_2_callers_carry_their_media_over_authenticated_UDP()
    {
        using var lab = new CallLab();
        var (_, port) = lab.Rendezvous(s => s with { HolePunch = true });
        var probe = CreateTestProbe(lab.Callers);
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(CallerRegistered));
        lab.Callers.EventStream.Subscribe(probe.Ref, typeof(CallSummary));
        // Bob listens, so the TCP path is direct (no loopback punching race); media still goes over UDP.
        lab.StartCaller(CallLab.Caller("bob", port, listen: true, autoAnswer: true));
        probe.ExpectMsg<CallerRegistered>(TimeSpan.FromSeconds(20));
        lab.StartCaller(CallLab.Caller("alice", port, call: "bob", durationS: 2));
        probe.ExpectMsg<CallerRegistered>(TimeSpan.FromSeconds(20));
        var first = probe.ExpectMsg<CallSummary>(TimeSpan.FromSeconds(20));
        var second = probe.ExpectMsg<CallSummary>(TimeSpan.FromSeconds(20));
        foreach (var s in new[] { first, second })
        {
            Assert.Equal("completed", s.Result);
            Assert.Equal("direct", s.Path);
            Assert.NotNull(s.Udp);
            Assert.True(s.Udp!.Up, $"{s.Id}: {s.Udp}");
            Assert.NotEqual("tcp", s.MediaPath);
            Assert.True(s.Udp.FramesReceived > 30, $"{s.Id}: {s.Udp}");
            Assert.True(s.Udp.Played > 20, $"{s.Id}: {s.Udp}");
            Assert.True(s.FramesReceived >= s.Udp.FramesReceived);
            Assert.Equal(0, s.Udp.Rejected);
        }
    }
}
