using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Wire;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// Blocks and pieces move through buffers rented from the shared array pool: a seed reads each block
/// it serves into one and gives it back once the socket has the bytes (StorageActor.BlockRead); a
/// leecher's decoder copies each block it receives into one, the torrent gives it back once the
/// block is in its piece, and the piece's own buffer goes back when storage has judged and written
/// it. A buffer given back too early is reused while something still reads it: the peer gets
/// another block's bytes, or a piece fails its hash. Each file ends in a short piece whose last
/// block is shorter than a pooled buffer.
/// </summary>
public sealed class PooledBufferTests() : SwarmTest("pooled-buffers")
{
    /// <summary>A plain BEP 3 raw peer asks for every block, far more than the seed keeps queued, three times over, and checks every byte.</summary>
    [Fact]
    public async Task Every_block_a_seed_sends_holds_the_bytes_of_the_file_at_its_offset_while_buffers_are_reused()
    {
        const int pieceLength = 64 * 1024;
        const int blockLength = WireLimits.BlockLength;
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "blocks.bin", 10 * pieceLength + 5_000, pieceLength);
        var seed = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1", UseTrackers = false }, "seed");
        var port = await SwarmFixture.PortOf(seed);

        await using var peer = await RawPeer.Handshaken(port, torrent, reserved: new byte[8]);
        await peer.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
        await peer.Next<WireMessage.Unchoke>(seconds: 10);

        var blocks = new List<WireMessage.Request>();
        for (var index = 0; index < torrent.PieceCount; index++)
            for (var begin = 0; begin < torrent.PieceSize(index); begin += blockLength)
                blocks.Add(new WireMessage.Request(index, begin, Math.Min(blockLength, torrent.PieceSize(index) - begin)));
        Assert.True(blocks.Count > 40, $"{blocks.Count} blocks");

        for (var round = 0; round < 3; round++)
        {
            // All of them in one write: the seed queues them and serves them through its few buffers in flight.
            var requests = new MemoryStream();
            foreach (var request in blocks) requests.Write(WireEncoder.Encode(request));
            await peer.Send(requests.ToArray());

            var wanted = blocks.Select(b => (b.Index, b.Begin)).ToHashSet();
            while (wanted.Count > 0)
            {
                var piece = await peer.Next<WireMessage.Piece>(seconds: 10);
                Assert.True(wanted.Remove((piece.Index, piece.Begin)), $"round {round}: block {piece.Index}/{piece.Begin} unasked or twice");
                var offset = (long)piece.Index * pieceLength + piece.Begin;
                var expected = content.AsSpan((int)offset, Math.Min(blockLength, torrent.PieceSize(piece.Index) - piece.Begin));
                Assert.True(expected.SequenceEqual(piece.Block.Span), $"round {round}: block {piece.Index}/{piece.Begin} ({piece.Block.Length} bytes) differs from the file");
            }
        }
    }

    /// <summary>
    /// Our leecher fetches a file of 40 pieces from our seed on loopback: every piece verifies the
    /// first time (a piece that failed would be fetched again, so more than the file's bytes would
    /// be counted as downloaded), and the file is byte for byte the seed's.
    /// </summary>
    [Fact]
    public async Task A_leecher_verifies_every_piece_the_first_time_while_its_buffers_are_reused()
    {
        const int pieceLength = 64 * 1024;
        var (torrent, _, content) = SwarmFixture.MakeTorrent(_temp, "leech.bin", 40 * pieceLength - 3_000, pieceLength);
        var seed = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed")) { Host = "127.0.0.1", UseTrackers = false }, "seed");
        var seedPort = await SwarmFixture.PortOf(seed);
        var leecher = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("leech"))
        { Host = "127.0.0.1", UseTrackers = false, InitialPeers = [SwarmFixture.Loopback(seedPort)] }, "leecher");

        var done = await SwarmFixture.Completion(leecher, TimeSpan.FromSeconds(60));
        Assert.True(done.Complete);
        Assert.Equal(content.Length, done.Downloaded);
        Assert.Equal(0, done.Banned);
        Assert.Equal(content, await File.ReadAllBytesAsync(_temp.Combine("leech", "leech.bin")));
    }
}
