using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Picking;
using Actors.Torrent.Peer.Wire;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// A peer that unchokes us and sits idle gets requests: blocks that busy peers are slow to bring
/// (asked of them more than <see cref="PiecePicker.ShareSlowerThan"/> ago) are shared with it (two
/// copies at most, before the end-game), and a <c>have</c> for a piece we
/// lack is asked for at once rather than at the connection's next tick (15 s once idle). In a
/// capped 20-leecher swarm, without either, leechers' uploads idled at 60–80 % of their cap while
/// the peers they unchoked fetched every piece they lacked from busier ones.
/// Plain BEP 3 raw peers on loopback that never send a block, one torrent of 16 KiB pieces (one block each).
/// </summary>
public sealed class IdlePeerRequestTests() : SwarmTest("idle-requests")
{
    [Fact]
    public async Task An_idle_unchoking_peer_shares_slow_blocks_and_is_asked_at_once_for_a_piece_it_just_got()
    {
        const int pieceLength = 16 * 1024;
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "idle.bin", 4 * pieceLength, pieceLength);
        var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("leech")) { Host = "127.0.0.1", UseTrackers = false }, "leecher");
        var port = await SwarmFixture.PortOf(leecher);
        var holdsFirst = new PieceSet(torrent.PieceCount);
        holdsFirst.Add(0);

        async Task<RawPeer> Unchoking()
        {
            var peer = await RawPeer.Handshaken(port, torrent, reserved: new byte[8]);
            await peer.Send(WireEncoder.Encode(new WireMessage.Bitfield(holdsFirst.ToWire())));
            await peer.Send(WireEncoder.Encode(WireMessage.Unchoke.Instance));
            return peer;
        }

        await using var busy = await Unchoking();
        await busy.Next<WireMessage.Request>(r => r.Index == 0, seconds: 5);
        // The busy peer never sends the block. Once it has had it for a while, a second holder,
        // idle, is asked for a copy of it.
        await Task.Delay(PiecePicker.ShareSlowerThan + TimeSpan.FromMilliseconds(200));
        await using var idle = await Unchoking();
        await idle.Next<WireMessage.Request>(r => r.Index == 0, seconds: 5);
        // A third holder gets nothing: two copies are in flight. Past its first, fast tick, the
        // connection ticks every 15 s, so only the have below can make it ask again soon.
        await using var third = await Unchoking();
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        await third.Send(WireEncoder.Encode(new WireMessage.Have(2)));
        // The first request it gets (a third copy of piece 0 would come first, and fail this).
        var asked = await third.Next<WireMessage.Request>(seconds: 5);
        Assert.Equal(2, asked.Index);
    }
}
