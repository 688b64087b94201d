using System.Net;
using Actors.Torrent.Tracker;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

public sealed class SwarmIndexTests
{
    private const string HashA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string HashB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const long Now = 1_000_000;

    private static PeerEntry Entry(int host, bool seeder = false, long lastSeen = Now) => new($"10.0.0.{host}", 6000 + host, seeder, lastSeen);

    private static KeyValuePair<string, PeerEntry> Replicated(string hash, string peer, PeerEntry entry) => new(hash + peer, entry);

    [Fact]
    public void A_merge_adds_remote_peers_drops_vanished_ones_and_skips_expired_ones()
    {
        var index = new SwarmIndex();
        index.Set(HashA, "01", Entry(1, seeder: true));
        index.Set(HashA, "02", Entry(2));
        index.Set(HashB, "03", Entry(3));

        index.MergeFrom([
            Replicated(HashA, "01", Entry(1, seeder: true)),
            Replicated(HashA, "04", Entry(4)),
            Replicated(HashA, "05", Entry(5, lastSeen: Now - 10)),
        ], cutoff: Now - 5);

        Assert.Equal(2, index.PeerCount);
        Assert.Null(index.Find(HashB));
        var swarm = index.Find(HashA)!;
        Assert.Equal((1, 1), (swarm.Complete, swarm.Incomplete));
        Assert.True(swarm.TryGet("04", out _));
        Assert.False(swarm.TryGet("02", out _));
        Assert.False(swarm.TryGet("05", out _));
    }

    [Fact]
    public void A_changed_entry_moves_a_peer_between_seeders_and_leechers()
    {
        var index = new SwarmIndex();
        index.Set(HashA, "01", Entry(1));
        index.MergeFrom([Replicated(HashA, "01", Entry(1, seeder: true))], cutoff: 0);
        var swarm = index.Find(HashA)!;
        Assert.Equal((1, 0), (swarm.Complete, swarm.Incomplete));
        index.Remove(HashA, "01");
        Assert.Null(index.Find(HashA));
        Assert.Equal(0, index.PeerCount);
    }

    [Theory]
    [InlineData(10, 5)]
    [InlineData(10, 50)]
    [InlineData(1000, 50)]
    public void Samples_are_distinct_live_peers_other_than_the_asker_and_at_most_numwant(int peers, int wanted)
    {
        var index = new SwarmIndex();
        for (var i = 0; i < peers; i++)
            index.Set(HashA, $"p{i}", new PeerEntry($"10.1.{i / 250}.{i % 250 + 1}", 7000, false, i % 10 == 9 ? 0 : Now));
        // The asker by peer id, and the same client (address and port) under another id.
        var sample = index.Find(HashA)!.Sample("p0", IPAddress.Parse("10.1.0.2"), 7000, wanted, cutoff: 1);

        var live = Enumerable.Range(0, peers).Count(i => i % 10 != 9) - 2;
        Assert.Equal(Math.Min(wanted, live), sample.Count);
        Assert.Equal(sample.Count, sample.Select(p => p.PeerId).Distinct().Count());
        Assert.DoesNotContain(sample, p => p.PeerId is "p0" or "p1");
        Assert.All(sample, p => Assert.NotEqual(9, int.Parse(p.PeerId[1..]) % 10));
    }

    [Fact]
    public void Expired_peers_are_removed_and_named_by_their_replicated_key()
    {
        var index = new SwarmIndex();
        index.Set(HashA, "01", Entry(1, lastSeen: 5));
        index.Set(HashA, "02", Entry(2));
        Assert.Equal([HashA + "01"], index.RemoveExpired(cutoff: 10));
        Assert.Equal(1, index.PeerCount);
    }
}
