using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Actors.Net.Udp;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Tracker;
using Actors.Torrent.Tracker.Udp;
using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit.Xunit2;
using Xunit;
using static Actors.Torrent.Tracker.Udp.UdpTrackerProtocol;

namespace Actors.Torrent.Tests.Tracker;

/// <summary>
/// A flood of 20,000 datagrams at the UDP tracker while it cannot run (it shares a one-thread
/// dispatcher with an actor blocked on a gate): it queues <c>max-queued-datagrams</c>, drops and
/// counts the rest, and answers a well-formed client as soon as it runs again.
/// </summary>
public sealed class UdpTrackerFloodTests : TestKit
{
    private const int Bound = 200;
    private const int Flood = 20_000;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly byte[] Hash = Enumerable.Range(0, 20).Select(i => (byte)(0x3C ^ i)).ToArray();

    public UdpTrackerFloodTests() : base(TrackerActorTests.NodeConfig($$"""
        {{DatagramMailbox.Id}}.max-queued-datagrams = {{Bound}}
        one-thread {
          type = ForkJoinDispatcher
          throughput = 100
          dedicated-thread-pool.thread-count = 1
        }
        """)) { }

    /// <summary>Holds the one thread of its dispatcher until the gate opens (at most <see cref="Wait"/>).</summary>
    private sealed class Blocker : ReceiveActor
    {
        public Blocker() => Receive<ManualResetEventSlim>(gate =>
        {
            Sender.Tell("blocking");
            gate.Wait(Wait);
        });
    }

    [Fact]
    public async Task After_a_flood_it_dropped_all_but_the_bound_and_still_answers_a_client()
    {
        Cluster.Get(Sys).Join(Cluster.Get(Sys).SelfAddress);
        AwaitCondition(() => Cluster.Get(Sys).State.Members.Any(m => m.Status == MemberStatus.Up), Wait);
        var registry = Sys.ActorOf(SwarmRegistry.Props(TrackerActorTests.Settings()), "swarm-registry");
        DatagramMailbox.Ensure(Sys);
        var udp = Sys.ActorOf(UdpTracker.Props(TrackerActorTests.Settings(), registry, new IPEndPoint(IPAddress.Loopback, 0))
            .WithDispatcher("one-thread"), "udp");
        var tracker = (await udp.Ask<UdpListening>(GetUdpListening.Instance, Wait)).LocalAddress;
        var queue = Assert.IsType<DatagramQueue>((((ActorRefWithCell)udp).Underlying as ActorCell)?.Mailbox?.MessageQueue);

        using var gate = new ManualResetEventSlim(false);
        var blocker = Sys.ActorOf(Props.Create(() => new Blocker()).WithDispatcher("one-thread"), "blocker");
        blocker.Tell(gate, TestActor);
        ExpectMsg("blocking", Wait);
        using var flooder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var connect = UdpTrackerAnnounce.ConnectRequest(0x0F100D);
        var deadline = DateTime.UtcNow + Wait;
        for (var i = 0; i < Flood; i++)
        {
            // At most 64 datagrams in the kernel at once: all of them reach the queue, so the counts are exact.
            SpinWait.SpinUntil(() => i - (queue.QueuedDatagrams + queue.Dropped) < 64 || DateTime.UtcNow > deadline);
            Assert.True(DateTime.UtcNow < deadline, $"the listener stopped taking datagrams after {i}");
            flooder.Send(connect, tracker);
        }
        SpinWait.SpinUntil(() => queue.QueuedDatagrams + queue.Dropped == Flood, Wait);
        Assert.Equal(Bound, queue.QueuedDatagrams);
        Assert.Equal(Flood - Bound, queue.Dropped);
        gate.Set();
        Assert.True(SpinWait.SpinUntil(() => queue.QueuedDatagrams == 0, Wait), "the tracker did not work off its queue");

        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var answer = await Exchange(client, tracker, UdpTrackerAnnounce.ConnectRequest(77));
        var connectionId = UdpTrackerAnnounce.ParseConnectAnswer(answer);
        var port = (ushort)((IPEndPoint)client.Client.LocalEndPoint!).Port;
        answer = await Exchange(client, tracker, UdpTrackerPacketsTests.AnnounceBytes(connectionId, transactionId: 31, eventCode: 2,
            port: port, left: 0, hash: Hash, peerId: Encoding.ASCII.GetBytes("flood-survivor".PadRight(20, '-'))));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(answer)); // an announce answer
        Assert.Equal(31, BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(answer.AsSpan(16))); // one seeder: the client

        var stats = await udp.Ask<UdpTrackerStats>(GetUdpStats.Instance, Wait);
        Assert.Equal(Bound + 2, stats.Received);
        Assert.Equal(Bound + 1, stats.Connects);
        Assert.Equal(1, stats.Announces);
        Assert.Equal(Flood - Bound, stats.Overflowed);

        Watch(udp);
        Sys.Stop(udp);
        ExpectTerminated(udp, Wait);
        Sys.Stop(blocker);
    }

    private static async Task<byte[]> Exchange(UdpClient client, IPEndPoint tracker, byte[] request)
    {
        await client.SendAsync(request, tracker);
        using var timeout = new CancellationTokenSource(Wait);
        return (await client.ReceiveAsync(timeout.Token)).Buffer;
    }
}
