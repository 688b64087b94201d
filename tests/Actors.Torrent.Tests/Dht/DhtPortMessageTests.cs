using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Dht;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;
using Actors.Torrent.Tests.Peer;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;

namespace Actors.Torrent.Tests.Dht;

/// <summary>
/// The BEP 5 <c>port</c> message: a peer that runs a DHT node sets the handshake's DHT bit, tells a
/// peer that set it too its node's UDP port, and has its node ping the node a peer advertises.
/// </summary>
public sealed class DhtPortMessageTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _temp = new();

    public DhtPortMessageTests() : base(SwarmFixture.Config) { }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        _temp.Dispose();
    }

    /// <summary>A node with no bootstrap: its table stays empty unless someone tells it of a node.</summary>
    private (IActorRef Node, int Port) StartNode()
    {
        var probe = CreateTestProbe();
        DatagramMailbox.Ensure(Sys);
        var node = Sys.ActorOf(DhtNode.Props(new DhtSettings { Host = IPAddress.Loopback, QueryTimeout = TimeSpan.FromSeconds(1) }, probe.Ref));
        return (node, probe.ExpectMsg<DhtNodeStarted>(Wait).EndPoint.Port);
    }

    private async Task<int> TableSize(IActorRef node) => (await node.Ask<DhtStatus>(GetDhtStatus.Instance, Wait)).TableSize;

    /// <summary>A seeder whose torrent runs with a DHT node; the torrent, its TCP port and the node.</summary>
    private async Task<(TorrentMetainfo Torrent, int Port, IActorRef Node, int UdpPort)> Seeder(string name)
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, name, 40 * 16 * 1024, pieceLength: 16 * 1024);
        var (node, udpPort) = StartNode();
        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", Dht = new TorrentDht(node, udpPort) }, "seeder");
        await SwarmFixture.Completion(seeder, Wait);
        return (torrent, await SwarmFixture.PortOf(seeder), node, udpPort);
    }

    /// <summary>A raw peer that has handshaken (with or without the DHT bit) and read our extended handshake.</summary>
    private static async Task<RawPeer> Connect(TorrentMetainfo torrent, int port, bool dhtBit)
    {
        var peer = await RawPeer.Connect(port, new WireLimits(torrent.PieceCount));
        await peer.Send(new Handshake(Handshake.OurReserved(dht: dhtBit), torrent.InfoHash.ToArray(), TorrentSettings.NewPeerId()).Encode());
        await peer.Handshake();
        await peer.Next<WireMessage.Extended>(e => e.ExtendedId == 0);
        return peer;
    }

    [Fact]
    public async Task Two_peers_that_run_DHT_nodes_tell_each_other_their_ports_and_each_node_adds_the_other()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "two.bin", 60 * 16 * 1024 - 3, pieceLength: 16 * 1024);
        var (seederNode, seederUdp) = StartNode();
        var (leecherNode, leecherUdp) = StartNode();
        Assert.Equal(0, await TableSize(seederNode));
        Assert.Equal(0, await TableSize(leecherNode));

        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", Dht = new TorrentDht(seederNode, seederUdp) }, "seeder");
        var port = await SwarmFixture.PortOf(seeder);
        var leecher = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("leech"))
        { Host = "127.0.0.1", Dht = new TorrentDht(leecherNode, leecherUdp), InitialPeers = [SwarmFixture.Loopback(port)] }, "leecher");
        await SwarmFixture.Completion(leecher, Wait);
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "two.bin")));

        // Each node learned the other from the wire alone (neither had a bootstrap node).
        await AwaitAssertAsync(async () =>
        {
            Assert.Equal(1, await TableSize(seederNode));
            Assert.Equal(1, await TableSize(leecherNode));
        }, Wait, TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task Only_a_peer_that_sets_the_DHT_bit_is_sent_our_port()
    {
        var (torrent, port, _, udpPort) = await Seeder("bit.bin");

        await using (var without = await Connect(torrent, port, dhtBit: false))
        {
            Assert.True(without.TheirHandshake!.SupportsDht, "our handshake sets the DHT bit when we run a node");
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => without.Next<WireMessage.Port>(seconds: 1));
        }
        await using var with = await Connect(torrent, port, dhtBit: true);
        Assert.Equal(udpPort, (await with.Next<WireMessage.Port>()).UdpPort);
    }

    [Fact]
    public async Task Without_a_DHT_node_our_handshake_has_no_DHT_bit_and_no_port_is_sent()
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "none.bin", 20 * 16 * 1024, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(Sys, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "plain");
        await SwarmFixture.Completion(seeder, Wait);
        await using var peer = await Connect(torrent, await SwarmFixture.PortOf(seeder), dhtBit: true);
        Assert.False(peer.TheirHandshake!.SupportsDht);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => peer.Next<WireMessage.Port>(seconds: 1));
    }

    [Fact]
    public async Task A_port_message_has_our_node_ping_the_advertised_node_once_and_add_it_when_it_answers()
    {
        var (torrent, port, node, _) = await Seeder("ping.bin");
        using var foreign = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var foreignPort = ((IPEndPoint)foreign.Client.LocalEndPoint!).Port;
        var foreignId = NodeId.Random();

        // Said five times on one connection and again on a second one: one ping.
        await using var first = await Connect(torrent, port, dhtBit: true);
        for (var i = 0; i < 5; i++) await first.Send(WireEncoder.Encode(new WireMessage.Port(foreignPort)));
        await using var second = await Connect(torrent, port, dhtBit: true);
        await second.Send(WireEncoder.Encode(new WireMessage.Port(foreignPort)));

        using (var cancel = new CancellationTokenSource(Wait))
        {
            var datagram = await foreign.ReceiveAsync(cancel.Token);
            var ping = Assert.IsType<PingQuery>(KrpcCodec.Decode(datagram.Buffer));
            await foreign.SendAsync(KrpcCodec.Encode(KrpcResponse.Simple(ping.TransactionId, foreignId)), datagram.RemoteEndPoint);
        }
        await AwaitAssertAsync(async () => Assert.Equal(1, await TableSize(node)), Wait, TimeSpan.FromMilliseconds(100));
        using (var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(1.5)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await foreign.ReceiveAsync(quiet.Token));
    }

    [Fact]
    public async Task A_port_message_for_a_node_that_never_answers_adds_nothing()
    {
        var (torrent, port, node, _) = await Seeder("silent.bin");
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        await using var peer = await Connect(torrent, port, dhtBit: true);
        await peer.Send(WireEncoder.Encode(new WireMessage.Port(((IPEndPoint)silent.Client.LocalEndPoint!).Port)));
        using (var cancel = new CancellationTokenSource(Wait))
            Assert.IsType<PingQuery>(KrpcCodec.Decode((await silent.ReceiveAsync(cancel.Token)).Buffer));
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the query timeout
        Assert.Equal(0, await TableSize(node));
    }
}
