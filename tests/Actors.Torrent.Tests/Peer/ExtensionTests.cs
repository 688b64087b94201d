using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Peer.Magnet;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>Magnet links (BEP 9), PEX (BEP 11) and the Fast extension (BEP 6) between our own peers, and against a peer that lies.</summary>
public sealed class ExtensionTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ActorSystem _system = ActorSystem.Create("extensions", SwarmFixture.Config);

    public void Dispose()
    {
        _system.Terminate().Wait(TimeSpan.FromSeconds(10));
        _temp.Dispose();
    }

    private async Task<object> Fetch(MagnetLink link, MagnetSettings settings, TimeSpan giveUpAfter)
    {
        var fetcher = _system.ActorOf(MetadataFetcher.Props(link, settings, ActorRefs.Nobody));
        var asked = fetcher.Ask<object>(FetchMetadata.Instance, TimeSpan.FromSeconds(30));
        if (await Task.WhenAny(asked, Task.Delay(giveUpAfter)) != asked) fetcher.Tell(MetadataFetcher.GiveUp.Instance);
        return await asked;
    }

    [Fact]
    public async Task A_magnet_link_fetches_the_metadata_from_our_seeder_and_downloads()
    {
        // 1,000 pieces: an info dictionary of ~20 KB, two metadata pieces.
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "m.bin", 1000 * 16 * 1024 - 5, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        var port = await SwarmFixture.PortOf(seeder);
        Assert.True(torrent.RawInfo.Length > MetadataMessage.PieceLength, "the info dictionary spans several metadata pieces");

        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHashHex}&x.pe=127.0.0.1:{port}");
        var resolved = Assert.IsType<MetadataResolved>(await Fetch(link, new MagnetSettings(TorrentSettings.NewPeerId()), TimeSpan.FromSeconds(15)));
        Assert.Equal(torrent.InfoHashHex, resolved.Torrent.InfoHashHex);
        Assert.Equal(torrent.RawInfo.ToArray(), resolved.Torrent.RawInfo.ToArray());
        Assert.Equal([SwarmFixture.Loopback(port)], resolved.Peers);

        var leecher = SwarmFixture.Start(_system, new TorrentSettings(resolved.Torrent, _temp.Combine("leech"))
        { Host = "127.0.0.1", InitialPeers = resolved.Peers }, "leecher");
        await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(20));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("leech", "m.bin")));
    }

    [Fact]
    public async Task A_peer_that_sends_metadata_of_another_hash_is_distrusted_and_not_asked_again()
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "lie.bin", 100_000, pieceLength: 16 * 1024);
        using var liar = new TcpListener(IPAddress.Loopback, 0);
        liar.Start();
        var liarPort = ((IPEndPoint)liar.LocalEndpoint).Port;
        var lying = Lie(liar, torrent);

        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHashHex}&x.pe=127.0.0.1:{liarPort}");
        var failed = Assert.IsType<MetadataFailed>(await Fetch(link, new MagnetSettings(TorrentSettings.NewPeerId()), TimeSpan.FromSeconds(4)));
        Assert.True(await lying, "the liar was asked for metadata");
        Assert.Contains("1 sent bad metadata", failed.Reason);
        Assert.False(liar.Pending(), "the liar was dialled again");
    }

    /// <summary>Answers one metadata fetch with bytes of the right size that hash to something else; true once it sent them.</summary>
    private static async Task<bool> Lie(TcpListener listener, TorrentMetainfo torrent)
    {
        await using var peer = await RawPeer.Accept(listener, WireLimits.MetadataOnly());
        await peer.Handshake();
        await peer.Send(new Handshake(Handshake.OurReserved(), torrent.InfoHash.ToArray(), TorrentSettings.NewPeerId()).Encode());
        var size = torrent.RawInfo.Length;
        await peer.Send(WireEncoder.Extended(0, new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_metadata"] = 7 },
            MetadataSize = size,
        }.Encode()));
        var sent = 0;
        while (sent < MetadataMessage.PieceCount(size))
        {
            var request = await peer.Next<WireMessage.Extended>(e => e.ExtendedId == 7);
            var piece = MetadataMessage.Parse(request.Payload)!.Piece;
            var length = Math.Min(MetadataMessage.PieceLength, size - piece * MetadataMessage.PieceLength);
            await peer.Send(WireEncoder.Extended(PeerConnection.OurMetadataId,
                new MetadataMessage.Data(piece, size, Enumerable.Repeat((byte)'x', length).ToArray()).Encode()));
            sent++;
        }
        return true;
    }

    [Fact]
    public async Task Metadata_larger_than_the_limit_is_not_asked_for()
    {
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "big.bin", 600_000, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        var port = await SwarmFixture.PortOf(seeder);
        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHashHex}&x.pe=127.0.0.1:{port}");
        var answer = await Fetch(link, new MagnetSettings(TorrentSettings.NewPeerId()) { MaxMetadataSize = 100 }, TimeSpan.FromSeconds(3));
        var failed = Assert.IsType<MetadataFailed>(answer);
        Assert.Contains("asked 1 peer", failed.Reason);
    }

    [Fact]
    public async Task A_leecher_that_knows_one_peer_learns_the_others_by_PEX()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "pex.bin", 400_000, pieceLength: 16 * 1024);
        var fast = TimeSpan.FromSeconds(1);
        // A slow seeder, so that the leechers are still at it when PEX runs.
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", PexInterval = fast, MaxUploadRate = 100_000 }, "seeder");
        var seederAt = SwarmFixture.Loopback(await SwarmFixture.PortOf(seeder));
        var first = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("first"))
        { Host = "127.0.0.1", PexInterval = fast, InitialPeers = [seederAt], MaxUploadRate = 100_000 }, "first");
        var firstPort = await SwarmFixture.PortOf(first);
        await AwaitPeers(seeder, 1);
        var late = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("late"))
        { Host = "127.0.0.1", PexInterval = fast, InitialPeers = [seederAt] }, "late");

        // The seeder tells the late leecher about the first one, which it then dials.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        TorrentProgress progress;
        do
        {
            await Task.Delay(200);
            progress = await SwarmFixture.ProgressOf(late);
        } while ((progress.PexLearned < 1 || progress.Peers < 2) && !progress.Complete && DateTime.UtcNow < deadline);
        Assert.True(progress.PexLearned >= 1, $"learned {progress.PexLearned} peers by PEX");
        Assert.True(progress.Peers >= 2 || progress.Complete, $"connected to {progress.Peers} peers");
        await SwarmFixture.Completion(late, TimeSpan.FromSeconds(20));
        Assert.Equal(content, File.ReadAllBytes(_temp.Combine("late", "pex.bin")));
        Assert.True(firstPort > 0);
    }

    private static async Task AwaitPeers(IActorRef torrent, int peers)
    {
        for (var i = 0; i < 100 && (await SwarmFixture.ProgressOf(torrent)).Peers < peers; i++) await Task.Delay(100);
    }

    [Fact]
    public async Task With_the_Fast_extension_a_choked_request_is_rejected_and_an_allowed_fast_piece_is_served()
    {
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "fast.bin", 64 * 16 * 1024, pieceLength: 16 * 1024);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1" }, "seeder");
        await using var peer = await RawPeer.Connect(await SwarmFixture.PortOf(seeder), new WireLimits(torrent.PieceCount));
        await peer.Send(new Handshake(Handshake.OurReserved(), torrent.InfoHash.ToArray(), TorrentSettings.NewPeerId()).Encode());
        var theirs = await peer.Handshake();
        Assert.True(theirs.SupportsFast && theirs.SupportsExtensions);

        // A seeder says have-all (not a bitfield), then its extended handshake and our allowed-fast set.
        await peer.Next<WireMessage.HaveAll>();
        var extended = await peer.Next<WireMessage.Extended>(e => e.ExtendedId == 0);
        Assert.Equal(torrent.RawInfo.Length, ExtensionHandshake.Parse(extended.Payload).MetadataSize);
        var allowed = AllowedFast.Compute(IPAddress.Loopback, torrent.InfoHash.Span, torrent.PieceCount);
        var firstAllowed = await peer.Next<WireMessage.AllowedFast>();
        Assert.Contains(firstAllowed.Index, allowed);

        // Choked (we never said interested): a piece outside the set is rejected, one inside is served.
        var outside = Enumerable.Range(0, torrent.PieceCount).First(i => !allowed.Contains(i));
        await peer.Send(WireEncoder.Encode(new WireMessage.Request(outside, 0, 16 * 1024)));
        Assert.Equal(new WireMessage.Reject(outside, 0, 16 * 1024), await peer.Next<WireMessage.Reject>());
        await peer.Send(WireEncoder.Encode(new WireMessage.Request(firstAllowed.Index, 0, 16 * 1024)));
        var piece = await peer.Next<WireMessage.Piece>();
        Assert.Equal(firstAllowed.Index, piece.Index);
        Assert.Equal(content.AsSpan(firstAllowed.Index * 16 * 1024, 16 * 1024).ToArray(), piece.Block.ToArray());

        // ut_metadata is served too: piece 0 of the info dictionary.
        await peer.Send(WireEncoder.Extended(0, new ExtensionHandshake { Messages = new Dictionary<string, byte> { ["ut_metadata"] = 5 } }.Encode()));
        await peer.Send(WireEncoder.Extended(PeerConnection.OurMetadataId, new MetadataMessage.Request(0).Encode()));
        var data = Assert.IsType<MetadataMessage.Data>(MetadataMessage.Parse((await peer.Next<WireMessage.Extended>(e => e.ExtendedId == 5)).Payload));
        Assert.Equal(torrent.RawInfo.ToArray(), data.Bytes.ToArray());
    }
}
