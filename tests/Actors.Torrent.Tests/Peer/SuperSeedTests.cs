using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>BEP 16 super-seeding on the wire and in a swarm of our own peers (one actor system, loopback).</summary>
public sealed class SuperSeedTests(Xunit.Abstractions.ITestOutputHelper output) : SwarmTest("super-seed")
{
    [Fact]
    public async Task A_super_seed_shows_have_none_then_two_pieces_and_the_next_once_one_was_fetched()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "super.bin", 32 * 16 * 1024, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1", SuperSeed = true }, "seeder");
        await using var peer = await RawPeer.Handshaken(await SwarmFixture.PortOf(seeder), torrent);
        Assert.True(peer.TheirHandshake!.SupportsFast);
        await peer.Send(WireEncoder.Encode(WireMessage.HaveNone.Instance));

        // Nothing shown at first (have-none, no allowed-fast set: it would show pieces), then an unchoke and two pieces.
        await peer.Next<WireMessage.HaveNone>();
        await peer.Next<WireMessage.Unchoke>();
        var first = await peer.Next<WireMessage.Have>();
        var second = await peer.Next<WireMessage.Have>();
        Assert.NotEqual(first.Index, second.Index);

        // Fetch the first and announce it: a third piece is shown.
        await peer.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
        await peer.Send(WireEncoder.Encode(new WireMessage.Request(first.Index, 0, 16 * 1024)));
        var piece = await peer.Next<WireMessage.Piece>();
        Assert.Equal(content.AsSpan(first.Index * 16 * 1024, 16 * 1024).ToArray(), piece.Block.ToArray());
        await peer.Send(WireEncoder.Encode(new WireMessage.Have(first.Index)));
        var third = await peer.Next<WireMessage.Have>();
        Assert.DoesNotContain(third.Index, new[] { first.Index, second.Index });
    }

    [Fact]
    public async Task Leechers_of_a_super_seed_complete_and_the_seed_uploads_each_piece_about_once()
    {
        const int leecherCount = 5;
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "swarm.bin", 1_000_000, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", MaxUploadRate = 1_000_000, SuperSeed = true }, "seeder");
        var known = new List<System.Net.IPEndPoint> { SwarmFixture.Loopback(await SwarmFixture.PortOf(seeder)) };
        var leechers = new List<IActorRef>();
        for (var i = 0; i < leecherCount; i++)
        {
            var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine($"leech{i}"))
            { Host = "127.0.0.1", InitialPeers = known.ToArray() }, $"leecher{i}");
            known.Add(SwarmFixture.Loopback(await SwarmFixture.PortOf(leecher)));
            leechers.Add(leecher);
        }
        await Task.WhenAll(leechers.Select(l => SwarmFixture.Completion(l, TimeSpan.FromSeconds(40))));
        for (var i = 0; i < leecherCount; i++)
            Assert.Equal(content, File.ReadAllBytes(_temp.Combine($"leech{i}", "swarm.bin")));
        var uploaded = (await SwarmFixture.ProgressOf(seeder)).Uploaded;
        output.WriteLine($"the super-seed uploaded {uploaded} bytes for a {content.Length}-byte file ({(double)uploaded / content.Length:F2}×)");
        // An ordinary seed sends a piece to every leecher that asks for it first: 2.1× here (1.00× super-seeding).
        Assert.True(uploaded <= content.Length * 1.2, $"the seed uploaded {uploaded} bytes for {content.Length}");
    }
}
