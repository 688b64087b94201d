using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// A capped uploader serves a request for a piece few of its peers hold before requests for pieces
/// most of them hold, even when it was asked last (<see cref="Actors.Torrent.Peer.Picking.PieceRarity"/>):
/// a piece only we hold spreads at once instead of waiting behind blocks the peer could get elsewhere.
/// A seed capped at 16 KiB/s and four plain BEP 3 raw peers on loopback; three of them hold the first
/// half of the file, the fourth asks for eight blocks of that half and then one of the other half.
/// </summary>
public sealed class RareFirstUploadTests() : SwarmTest("rare-first")
{
    [Fact]
    public async Task A_request_for_a_piece_no_peer_holds_goes_ahead_of_earlier_requests_for_common_pieces()
    {
        const int pieceLength = 16 * 1024;
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "rare.bin", 32 * pieceLength, pieceLength);
        var seed = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", UseTrackers = false, MaxUploadRate = 16 * 1024 }, "seed");
        var port = await SwarmFixture.PortOf(seed);
        var firstHalf = new PieceSet(torrent.PieceCount);
        for (var i = 0; i < 16; i++) firstHalf.Add(i);

        var holders = new List<RawPeer>();
        try
        {
            // Each holder is unchoked only after the seed read its interest, which it sent after its
            // bitfield: once all three are unchoked, the seed counts three holders of the first half.
            for (var i = 0; i < 3; i++)
            {
                var holder = await RawPeer.Handshaken(port, torrent, reserved: new byte[8]);
                holders.Add(holder);
                await holder.Send(WireEncoder.Encode(new WireMessage.Bitfield(firstHalf.ToWire())));
                await holder.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
                await holder.Next<WireMessage.Unchoke>(seconds: 5);
            }
            await using var asker = await RawPeer.Handshaken(port, torrent, reserved: new byte[8]);
            await asker.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
            await asker.Next<WireMessage.Unchoke>(seconds: 5);

            // One write: eight common blocks, then the rare one. The seed's burst (64 KiB) covers four.
            var requests = new MemoryStream();
            foreach (var index in new[] { 0, 1, 2, 3, 4, 5, 6, 7, 20 })
                requests.Write(WireEncoder.Encode(new WireMessage.Request(index, 0, pieceLength)));
            await asker.Send(requests.ToArray());

            var order = new List<int>();
            while (!order.Contains(20) && order.Count < 9)
                order.Add((await asker.Next<WireMessage.Piece>(seconds: 15)).Index);
            // First come, first served, piece 20 would be the ninth block, about 4 s after the burst.
            Assert.True(order.IndexOf(20) is >= 0 and <= 4, $"blocks arrived in the order {string.Join(", ", order)}");
        }
        finally
        {
            foreach (var holder in holders) await holder.DisposeAsync();
        }
    }
}
