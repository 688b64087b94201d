using System.Text.Json;
using Actors.Lab.Experiments;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>The swarm's progress lines (per-process copies per piece) and availability over time: min, median, max, distributed copies.</summary>
public sealed class PieceAvailabilityTests
{
    [Fact]
    public void A_progress_line_counts_each_piece_among_the_process_peers_and_round_trips()
    {
        // 10 pieces; peer 0 holds 0, 1 and 9; peer 1 holds 1 and 8; peer 2 nothing yet (empty bitfield).
        byte[] a = [0b1100_0000, 0b0100_0000], b = [0b0100_0000, 0b1000_0000];
        var line = SwarmProgress.Line(1234, 10, [3, 2, 0], [a, b, []]);
        var parsed = SwarmProgress.Parse(line);
        Assert.Equal(1234, parsed.UnixMs);
        Assert.Equal(10, parsed.Pieces);
        Assert.Equal([3, 2, 0], parsed.Have);
        Assert.Equal([1, 2, 0, 0, 0, 0, 0, 0, 1, 1], parsed.Counts);
    }

    [Fact]
    public void Spare_bits_past_the_last_piece_are_not_counted()
    {
        var parsed = SwarmProgress.Parse(SwarmProgress.Line(0, 3, [3], [[0xFF, 0xFF]]));
        Assert.Equal([1, 1, 1], parsed.Counts);
    }

    [Fact]
    public void An_older_line_without_counts_reads_as_none_held_and_a_wrong_count_is_refused()
    {
        Assert.Equal([0, 0], SwarmProgress.Parse("""{"unixMs":5,"pieces":2,"have":[1]}""").Counts);
        Assert.Throws<JsonException>(() => SwarmProgress.Parse("""{"unixMs":5,"pieces":2,"have":[1],"counts":[1]}"""));
    }

    [Theory]
    [InlineData(new[] { 2, 2, 2, 2 }, 2.0)]    // every piece twice: two full copies
    [InlineData(new[] { 1, 3, 3, 1 }, 1.5)]    // every piece once, half of them more often
    [InlineData(new[] { 0, 1, 1, 1 }, 0.75)]   // one piece missing: less than one copy
    public void Distributed_copies_are_the_least_copies_plus_the_share_of_pieces_above_it(int[] copies, double expected) =>
        Assert.Equal(expected, PieceAvailability.DistributedCopies(copies), 6);

    [Fact]
    public void Availability_sums_the_processes_and_the_seeders_per_second_carrying_a_missed_second_and_dropping_a_process_that_ended()
    {
        const long start = 1_000_000;
        static SwarmProgress At(double t, params int[] counts) => new(start + (long)(t * 1000), counts.Length, [], counts);
        var first = new List<SwarmProgress> { At(-1, 0, 0, 0, 0), At(0.2, 0, 0, 0, 0), At(1.1, 1, 0, 0, 0), /* no line in second 2 */ At(3.5, 2, 2, 1, 1) };
        var second = new List<SwarmProgress> { At(0.4, 0, 0, 0, 0), At(1.6, 1, 1, 0, 0), At(2.2, 1, 1, 1, 1) }; // then it ended
        var points = PieceAvailability.Over([first, second], seeders: 1, start);

        Assert.Equal([0, 1, 2, 3], points.Select(p => p.T));
        // t = 0: only the seeder.
        Assert.Equal((1, 1.0, 1, 1.0), (points[0].Min, points[0].Median, points[0].Max, points[0].DistributedCopies));
        // t = 1: 1 + [1,0,0,0] + [1,1,0,0] = [3,2,1,1].
        Assert.Equal((1, 1.5, 3, 1.5), (points[1].Min, points[1].Median, points[1].Max, points[1].DistributedCopies));
        Assert.Equal(1.75, points[1].Mean, 6);
        // t = 2: the first process's second-1 counts carried: 1 + [1,0,0,0] + [1,1,1,1] = [3,2,2,2].
        Assert.Equal((2, 2.0, 3, 2.25), (points[2].Min, points[2].Median, points[2].Max, points[2].DistributedCopies));
        // t = 3: the second process is gone: 1 + [2,2,1,1] = [3,3,2,2].
        Assert.Equal((2, 2.5, 3, 2.5), (points[3].Min, points[3].Median, points[3].Max, points[3].DistributedCopies));
    }

    [Fact]
    public void No_lines_after_the_start_give_no_points() =>
        Assert.Empty(PieceAvailability.Over([[new SwarmProgress(10, 2, [0], [0, 0])]], 1, 20_000));
}
