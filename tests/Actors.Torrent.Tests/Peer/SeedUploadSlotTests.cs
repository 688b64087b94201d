using System.Diagnostics;
using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Choking;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>
/// A seed whose capped upload goes unused while interested peers wait opens one more upload slot
/// per stats tick (1 s), for the waiting peer that waited longest, as a capped leecher does
/// (<see cref="Choker.ShouldOpenSlot"/>, which <see cref="SeedingTests"/> checks alone). End to end:
/// a seed actor and plain BEP 3 raw peers on loopback that are interested but pull (almost) nothing.
/// </summary>
public sealed class SeedUploadSlotTests(Xunit.Abstractions.ITestOutputHelper output) : SwarmTest("seed-slots")
{
    [Fact]
    public async Task A_capped_seed_whose_upload_goes_unused_unchokes_its_waiting_peers_one_a_second_the_longest_waiting_first()
    {
        const int pieceLength = 16 * 1024;
        var (torrent, _, _) = SwarmFixture.MakeTorrent(_temp, "slots.bin", 16 * pieceLength, pieceLength);
        var seeder = SwarmFixture.Start(_system, new TorrentSettings(torrent, _temp.Combine("seed"))
        { Host = "127.0.0.1", UseTrackers = false, MaxUploadRate = 1_000_000 }, "seeder");
        var port = await SwarmFixture.PortOf(seeder);

        // Eight peers without the Fast extension (no allowed-fast pieces: nothing moves while choked),
        // each joined once the seed welcomed it with its bitfield: the seed's peers are in this order,
        // and each has been choked since it joined.
        var peers = new List<RawPeer>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var joined = await RawPeer.Handshaken(port, torrent, reserved: new byte[8]);
                peers.Add(joined);
                await joined.Next<WireMessage.Bitfield>();
            }
            var (a, f, g, h) = (peers[0], peers[5], peers[6], peers[7]);

            // a..e take the seed's regular slots plus its one more turn as they become interested.
            foreach (var peer in peers.Take(Choker.RegularSlots + 1))
            {
                await peer.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
                await peer.Next<WireMessage.Unchoke>(seconds: 5);
            }
            // a wants nothing for a moment: its slot goes to f at once, and a waits again, since now.
            await f.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
            await a.Send(WireEncoder.Encode(WireMessage.NotInterested.Instance));
            await a.Next<WireMessage.Choke>(seconds: 5);
            await f.Next<WireMessage.Unchoke>(seconds: 5);
            // g and h (choked since they joined) and a (since just now) wait: every slot is taken.
            // The seed lists a before g and h, so "the first waiting" would be a; "the longest waiting" is g.
            foreach (var waiting in new[] { g, h, a })
                await waiting.Send(WireEncoder.Encode(WireMessage.Interested.Instance));
            // Nothing answers an interest while every slot is taken: a moment lets the seed read all
            // three before the first stats tick, which may come at once (a tick before any of them
            // opens nothing; one between them would favour whichever came first).
            await Task.Delay(TimeSpan.FromMilliseconds(250));

            // One block uploaded starts the stats ticks (they stop while nothing moves); the upload
            // stays at a few KB/s of the 1 MB/s cap, so each tick may open a slot while someone waits.
            var b = peers[1];
            await b.Send(WireEncoder.Encode(new WireMessage.Request(0, 0, pieceLength)));
            await b.Next<WireMessage.Piece>(seconds: 5);
            var started = Stopwatch.GetTimestamp();
            var unchokedAt = await Task.WhenAll(new[] { g, h, a }.Select(p => UnchokedAt(p, seconds: 6)));

            var after = unchokedAt.Select(t => t is null ? "never" : $"{Stopwatch.GetElapsedTime(started, t.Value).TotalSeconds:F1} s").ToArray();
            var description = $"unchoked after the first upload: g {after[0]}, h {after[1]}, a {after[2]}";
            output.WriteLine(description);
            Assert.True(unchokedAt.All(t => t is not null),
                $"a seed with {peers.Count} interested peers kept to {Choker.RegularSlots + 1} unchoked though its upload was unused ({description})");
            // One slot a tick, the longest waiting first: g, then h, then a (whose wait began last).
            Assert.True(unchokedAt[0] < unchokedAt[1] && unchokedAt[1] < unchokedAt[2], description);
        }
        finally
        {
            foreach (var peer in peers) await peer.DisposeAsync();
        }
    }

    /// <summary>When the peer was unchoked, or null when it was not within <paramref name="seconds"/>.</summary>
    private static async Task<long?> UnchokedAt(RawPeer peer, double seconds)
    {
        try
        {
            await peer.Next<WireMessage.Unchoke>(seconds: seconds);
            return Stopwatch.GetTimestamp();
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
