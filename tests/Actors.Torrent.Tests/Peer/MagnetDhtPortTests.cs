using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Dht;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Peer.Magnet;
using Actors.Torrent.Peer.Wire;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>BEP 5 in the magnet phase: a metadata connection of a process with a DHT node sets the DHT bit, sends <c>port</c>, and pings the peer's node.</summary>
public sealed class MagnetDhtPortTests() : TestKit(SwarmFixture.Config)
{
    [Fact]
    public async Task A_metadata_connection_with_a_DHT_node_sends_port_and_pings_the_node_the_peer_advertises()
    {
        var infoHash = System.Security.Cryptography.RandomNumberGenerator.GetBytes(20);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var peerPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var node = CreateTestProbe();
        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{Convert.ToHexStringLower(infoHash)}&x.pe=127.0.0.1:{peerPort}");
        Sys.ActorOf(MetadataFetcher.Props(link, new MagnetSettings(TorrentSettings.NewPeerId()) { Dht = new TorrentDht(node.Ref, 4321) }, Akka.Actor.ActorRefs.Nobody));

        await using var peer = await RawPeer.Accept(listener, WireLimits.MetadataOnly());
        var ours = await peer.Handshake();
        Assert.True(ours.SupportsDht, "the DHT bit is set");
        Assert.True(ours.SupportsExtensions);
        await peer.Send(new Handshake(Handshake.OurReserved(dht: true), infoHash, TorrentSettings.NewPeerId()).Encode());
        var port = await peer.Next<WireMessage.Port>(seconds: 5);
        Assert.Equal(4321, port.UdpPort);

        await peer.Send(WireEncoder.Encode(new WireMessage.Port(5555)));
        var ping = node.ExpectMsg<PingAdvertisedNode>(TimeSpan.FromSeconds(5));
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5555), ping.EndPoint);
    }

    [Fact]
    public async Task Without_a_DHT_node_the_bit_is_clear_and_no_port_is_sent()
    {
        var infoHash = System.Security.Cryptography.RandomNumberGenerator.GetBytes(20);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var peerPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{Convert.ToHexStringLower(infoHash)}&x.pe=127.0.0.1:{peerPort}");
        Sys.ActorOf(MetadataFetcher.Props(link, new MagnetSettings(TorrentSettings.NewPeerId()), Akka.Actor.ActorRefs.Nobody));

        await using var peer = await RawPeer.Accept(listener, WireLimits.MetadataOnly());
        var ours = await peer.Handshake();
        Assert.False(ours.SupportsDht);
        await peer.Send(new Handshake(Handshake.OurReserved(dht: true), infoHash, TorrentSettings.NewPeerId()).Encode());
        // The extended handshake comes right after ours; a port message would have been sent with it.
        await peer.Next<WireMessage.Extended>(e => e.ExtendedId == 0, seconds: 5);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => peer.Next<WireMessage.Port>(seconds: 1)); // nothing more came
    }
}
