using Actors.Torrent.Peer;
using Actors.Torrent.Peer.Choking;
using Actors.Torrent.Peer.Picking;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

public sealed class PickerAndChokerTests
{
    private const int Piece = 32 * 1024;

    private static PiecePicker Picker(int pieces, int randomFirst = 0) =>
        new(pieces, Piece, _ => Piece, new Random(1), randomFirstPieces: randomFirst);

    [Fact]
    public void Rarest_piece_is_picked_first_after_the_random_start()
    {
        var picker = Picker(4);
        var everyone = PieceSet.Full(4);
        var common = new PieceSet(4);
        common.Add(0); common.Add(1); common.Add(3);
        picker.PeerAdded(everyone);
        picker.PeerAdded(common);
        picker.PeerAdded(common);
        var blocks = picker.Pick("a", everyone, 2);
        Assert.All(blocks, b => Assert.Equal(2, b.Index));
    }

    [Fact]
    public void Started_pieces_are_finished_before_new_ones()
    {
        var picker = Picker(4);
        var all = PieceSet.Full(4);
        picker.PeerAdded(all);
        var first = picker.Pick("a", all, 1).Single();
        var next = picker.Pick("b", all, 1).Single();
        Assert.Equal(first.Index, next.Index);
        Assert.NotEqual(first.Begin, next.Begin);
    }

    [Fact]
    public void End_game_asks_a_second_peer_and_reports_whom_to_cancel()
    {
        var picker = Picker(1);
        var all = PieceSet.Full(1);
        Assert.Equal(2, picker.Pick("a", all, 10).Count);
        var duplicate = picker.Pick("b", all, 10);
        Assert.True(picker.InEndGame);
        Assert.Equal(2, duplicate.Count);
        var outcome = picker.BlockReceived("b", 0, 0, new byte[16384]);
        Assert.True(outcome.Accepted);
        Assert.Equal(["a"], outcome.AlsoRequestedFrom);
        var last = picker.BlockReceived("a", 0, 16384, new byte[16384]);
        Assert.NotNull(last.CompletedPiece);
        Assert.Equal(2, last.Contributors.Count);
    }

    [Fact]
    public void An_idle_peer_gets_a_second_copy_of_blocks_others_are_slow_to_bring_before_the_end_game_and_never_a_third()
    {
        var now = 1_000_000L;
        var picker = new PiecePicker(4, Piece, _ => Piece, new Random(1), randomFirstPieces: 0, clock: () => now);
        var onlyFirst = new PieceSet(4);
        onlyFirst.Add(0);
        var all = PieceSet.Full(4);
        picker.PeerAdded(all);
        Assert.Equal(2, picker.Pick("busy", onlyFirst, 10).Count); // both blocks of piece 0, from a busy peer
        Assert.False(picker.InEndGame);                             // pieces 1..3 not started

        // Another peer that holds piece 0: nothing unrequested, so nothing unless it is idle, and
        // not while the busy peer has had the blocks for less than ShareSlowerThan.
        Assert.Empty(picker.Pick("idle", onlyFirst, 10));
        Assert.Empty(picker.Pick("idle", onlyFirst, 10, shareSlowBlocks: true));
        now += (long)(PiecePicker.ShareSlowerThan.TotalSeconds * System.Diagnostics.Stopwatch.Frequency) + 1;
        var shared = picker.Pick("idle", onlyFirst, 10, shareSlowBlocks: true);
        Assert.Equal([(0, 0), (0, 16384)], shared.Select(b => (b.Index, b.Begin)));
        Assert.Empty(picker.Pick("third", onlyFirst, 10, shareSlowBlocks: true)); // two copies at most

        // The first copy wins; the other holder is told to cancel.
        Assert.Equal(["busy"], picker.BlockReceived("idle", 0, 0, new byte[16384]).AlsoRequestedFrom);
    }

    [Fact]
    public void A_failed_piece_is_picked_again()
    {
        var picker = Picker(1);
        var all = PieceSet.Full(1);
        picker.Pick("a", all, 2);
        picker.BlockReceived("a", 0, 0, new byte[16384]);
        Assert.NotNull(picker.BlockReceived("a", 0, 16384, new byte[16384]).CompletedPiece);
        picker.PieceFailed(0);
        Assert.Equal(2, picker.Pick("b", all, 2).Count);
    }

    [Fact]
    public void Choker_unchokes_the_four_best_interested_peers_and_one_optimistic()
    {
        var choker = new Choker(new Random(3));
        var peers = Enumerable.Range(0, 8).Select(i => new ChokeCandidate($"p{i}", i != 7, i * 100)).ToArray();
        var unchoked = choker.Round(peers);
        Assert.Equal(5, unchoked.Count);
        // Keys are compared by reference, as actor refs are.
        foreach (var best in new[] { 6, 5, 4, 3 }) Assert.Contains(peers[best].Key, unchoked);
        Assert.DoesNotContain(peers[7].Key, unchoked); // not interested
        Assert.Contains(choker.Optimistic!, peers[..3].Select(p => p.Key));
    }
}
