using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Choking;
using Actors.Torrent.Peer.Picking;
using Actors.Torrent.Peer.Seeding;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>How a seed spends its upload: BEP 16 reveals, the seed's round robin, and leechers that leave a seed alone for what others give.</summary>
public sealed class SeedingTests
{
    private static PieceSet Set(int count, params int[] pieces)
    {
        var set = new PieceSet(count);
        foreach (var i in pieces) set.Add(i);
        return set;
    }

    [Fact]
    public void Super_seed_reveals_distinct_pieces_to_each_peer_until_every_piece_was_shown_once()
    {
        var seeder = new SuperSeeder(40, revealsPerPeer: 2, new Random(1));
        var shown = new List<int>();
        var peers = Enumerable.Range(0, 20).Select(p => $"peer{p}").ToArray(); // keys compare by reference, as actor refs do
        foreach (var peer in peers)
        {
            var revealed = seeder.Reveal(peer, new PieceSet(40));
            Assert.Equal(2, revealed.Count);
            shown.AddRange(revealed);
        }
        Assert.Equal(40, shown.Distinct().Count());
        Assert.Equal(0, seeder.RepeatCount);
        // Every piece is being fetched from us: a 21st peer is shown none (it would share our upload with them).
        Assert.Empty(seeder.Reveal("late", new PieceSet(40)));
        // peer0 has one: still none, while pieces only we have are on their way to the others.
        Assert.True(seeder.PeerHas(peers[0], shown[0]));
        Assert.Empty(seeder.Reveal("late", new PieceSet(40)));
        // Every piece is held: still nothing, unless the peer is starving; then the least held ones, repeats.
        for (var p = 0; p < peers.Length; p++)
        {
            if (p > 0) seeder.PeerHas(peers[p], shown[2 * p]);
            seeder.PeerHas(peers[p], shown[2 * p + 1]);
        }
        seeder.PeerHas("other", shown[0]);
        Assert.Empty(seeder.Reveal("late", new PieceSet(40)));
        var late = seeder.Reveal("late", new PieceSet(40), allowRepeats: true);
        Assert.Equal(2, late.Count);
        Assert.DoesNotContain(shown[0], late); // held twice: the others once
        Assert.Equal(2, seeder.RepeatCount);
    }

    [Fact]
    public void Super_seed_shows_the_next_piece_only_once_the_peer_announced_one_it_was_shown()
    {
        var seeder = new SuperSeeder(10, revealsPerPeer: 1, new Random(2));
        var has = new PieceSet(10);
        var first = Assert.Single(seeder.Reveal("a", has));
        Assert.Empty(seeder.Reveal("a", has)); // still fetching the first
        // A piece it got from someone else is not the one it was shown: it still has that to fetch.
        var other = Enumerable.Range(0, 10).First(i => i != first);
        has.Add(other);
        Assert.False(seeder.PeerHas("a", other));
        Assert.Empty(seeder.Reveal("a", has));
        has.Add(first);
        Assert.True(seeder.PeerHas("a", first));
        var next = Assert.Single(seeder.Reveal("a", has));
        Assert.NotEqual(first, next);
        Assert.NotEqual(other, next);
    }

    [Fact]
    public void Super_seed_shows_pieces_nobody_holds_and_repeats_the_least_held_only_to_a_starving_peer()
    {
        var seeder = new SuperSeeder(4, revealsPerPeer: 1, new Random(3));
        seeder.PeerPieces("b", null, Set(4, 0, 1));
        seeder.PeerPieces("c", null, Set(4, 0, 2));
        Assert.Equal([3], seeder.Reveal("a", new PieceSet(4)));
        // Piece 3 is a's to fetch; d lacks everything, but the rest is held by others: nothing, unless starving.
        Assert.Empty(seeder.Reveal("d", new PieceSet(4)));
        var forD = Assert.Single(seeder.Reveal("d", new PieceSet(4), allowRepeats: true));
        Assert.Contains(forD, new[] { 1, 2 }); // never 0 (two holders) nor 3 (a fetches it)
    }

    [Fact]
    public void A_choked_peers_reveals_go_to_others_and_come_back_when_still_unique()
    {
        var seeder = new SuperSeeder(2, revealsPerPeer: 1, new Random(4));
        var toA = Assert.Single(seeder.Reveal("a", new PieceSet(2)));
        seeder.Withdraw("a"); // choked before fetching it
        Assert.Equal([toA], seeder.Reveal("b", new PieceSet(2))); // the unique piece is b's now
        seeder.Withdraw("b");
        // Unchoked again, a fetches its piece again: no new announcement is needed, and none is a repeat.
        Assert.Empty(seeder.Reveal("a", new PieceSet(2)));
        Assert.Equal([toA], seeder.ActiveOf("a"));
        Assert.Equal(2, seeder.RevealCount);
    }

    [Fact]
    public void A_peer_that_leaves_frees_its_reveals_and_its_pieces_no_longer_count()
    {
        var seeder = new SuperSeeder(3, revealsPerPeer: 1, new Random(5));
        seeder.PeerPieces("a", null, Set(3, 0, 1));
        var shown = Assert.Single(seeder.Reveal("a", Set(3, 0, 1)));
        Assert.Equal(2, shown);
        seeder.PeerLeft("a", Set(3, 0, 1));
        Assert.Equal(0, seeder.Availability(0));
        Assert.Empty(seeder.ActiveOf("a"));
        Assert.Equal(0, seeder.RepeatCount);
    }

    [Fact]
    public void A_bitfield_showing_a_revealed_piece_completes_that_reveal()
    {
        var seeder = new SuperSeeder(3, revealsPerPeer: 1, new Random(6));
        var shown = Assert.Single(seeder.Reveal("a", new PieceSet(3)));
        seeder.PeerPieces("a", new PieceSet(3), Set(3, shown));
        Assert.Empty(seeder.ActiveOf("a"));
        Assert.Single(seeder.Reveal("a", Set(3, shown)));
    }

    [Fact]
    public void Seed_round_robin_gives_waiting_peers_the_slots_of_peers_that_had_their_turn()
    {
        const long quota = 100;
        var candidates = new List<ChokeCandidate>();
        // Five unchoked: three had their turn (quota reached), two not yet.
        for (var i = 0; i < 3; i++) candidates.Add(new ChokeCandidate($"done{i}", true, 1000) { Unchoked = true, Since = i, UploadedSinceUnchoke = 500 + i });
        for (var i = 0; i < 2; i++) candidates.Add(new ChokeCandidate($"busy{i}", true, 10) { Unchoked = true, Since = 10 + i, UploadedSinceUnchoke = 50 });
        // Waiting, the longest first; one not interested.
        for (var i = 0; i < 4; i++) candidates.Add(new ChokeCandidate($"wait{i}", true, 0) { Since = 20 - i });
        candidates.Add(new ChokeCandidate("bored", false, 0) { Since = 0 });
        var unchoke = Choker.SeedRound(candidates, quota).Select(k => (string)k).ToHashSet();
        Assert.Equal(new HashSet<string> { "busy0", "busy1", "wait3", "wait2", "wait1" }, unchoke);
    }

    [Fact]
    public void Seed_round_robin_keeps_peers_that_had_their_turn_when_nobody_waits()
    {
        var candidates = new[]
        {
            new ChokeCandidate("a", true, 0) { Unchoked = true, UploadedSinceUnchoke = 900 },
            new ChokeCandidate("b", true, 0) { Unchoked = true, UploadedSinceUnchoke = 200 },
            new ChokeCandidate("c", false, 0),
        };
        Assert.Equal(2, Choker.SeedRound(candidates, 100).Count);
    }

    [Fact]
    public void A_capped_upload_left_unused_opens_a_slot_while_peers_wait()
    {
        Assert.True(Choker.ShouldOpenSlot(4, uploadRate: 500_000, uploadCap: 1_000_000, peersWaiting: true));
        Assert.False(Choker.ShouldOpenSlot(4, uploadRate: 950_000, uploadCap: 1_000_000, peersWaiting: true)); // used up
        Assert.False(Choker.ShouldOpenSlot(4, uploadRate: 500_000, uploadCap: 1_000_000, peersWaiting: false)); // nobody to give it to
        Assert.False(Choker.ShouldOpenSlot(4, uploadRate: 500_000, uploadCap: 0, peersWaiting: true)); // uncapped: the BEP 3 four
        Assert.False(Choker.ShouldOpenSlot(Choker.MaxSlots, uploadRate: 0, uploadCap: 1_000_000, peersWaiting: true));
    }

    [Fact]
    public void A_round_unchokes_as_many_regular_slots_as_opened()
    {
        var choker = new Choker(new Random(5));
        var peers = Enumerable.Range(0, 12).Select(i => new ChokeCandidate($"p{i}", true, i)).ToArray();
        var unchoked = choker.Round(peers, regularSlots: 8);
        Assert.Equal(9, unchoked.Count);
        foreach (var best in peers[4..]) Assert.Contains(best.Key, unchoked);
        Assert.True(Choker.HasFreeSlot(8, regularSlots: 8));
        Assert.False(Choker.HasFreeSlot(9, regularSlots: 8));
    }

    [Fact]
    public void A_leecher_leaves_a_seed_alone_for_pieces_an_unchoking_leecher_holds()
    {
        var picker = new PiecePicker(4, 32 * 1024, _ => 32 * 1024, new Random(1), randomFirstPieces: 0);
        var seed = PieceSet.Full(4);
        var leecher = Set(4, 0, 1, 2);
        picker.PeerAdded(seed);
        picker.PeerAdded(leecher);
        // Rarest first would start with piece 3 anyway; ask for more than one piece's blocks.
        var fromSeed = picker.Pick("seed", seed, 8, elsewhere: leecher);
        Assert.All(fromSeed, b => Assert.Equal(3, b.Index));
        Assert.Equal(2, fromSeed.Count);
        // Everything else comes from the leecher; the seed is asked for nothing more.
        Assert.Equal(6, picker.Pick("leecher", leecher, 8).Count);
        Assert.Empty(picker.Pick("seed", seed, 8, elsewhere: leecher));
    }

    [Fact]
    public void A_piece_started_from_a_leecher_is_not_finished_from_a_seed()
    {
        var picker = new PiecePicker(1, 32 * 1024, _ => 32 * 1024, new Random(1), randomFirstPieces: 0);
        var seed = PieceSet.Full(1);
        picker.PeerAdded(seed);
        picker.PeerAdded(seed);
        Assert.Single(picker.Pick("leecher", seed, 1));
        Assert.Empty(picker.Pick("seed", seed, 8, elsewhere: seed));
        Assert.Single(picker.Pick("seed", seed, 8)); // without the rule it would be
    }

    [Fact]
    public void The_end_game_asks_a_seed_only_for_pieces_no_unchoking_leecher_holds()
    {
        var picker = new PiecePicker(2, 32 * 1024, _ => 32 * 1024, new Random(1), randomFirstPieces: 0);
        var all = PieceSet.Full(2);
        picker.PeerAdded(all);
        Assert.Equal(4, picker.Pick("leecher", all, 8).Count);
        var duplicates = picker.Pick("seed", all, 8, elsewhere: Set(2, 0));
        Assert.True(picker.InEndGame);
        Assert.Equal(2, duplicates.Count);
        Assert.All(duplicates, b => Assert.Equal(1, b.Index));
    }

    [Fact]
    public void Union_of_piece_sets_counts_each_piece_once()
    {
        var a = Set(10, 0, 3, 9);
        a.UnionWith(Set(10, 3, 4));
        Assert.Equal([0, 3, 4, 9], a.ToArray());
        Assert.Equal(4, a.Count);
        Assert.Throws<ArgumentException>(() => a.UnionWith(new PieceSet(11)));
    }
}
