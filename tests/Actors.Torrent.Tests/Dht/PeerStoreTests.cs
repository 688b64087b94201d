using System.Net;
using Actors.Torrent.Dht;
using Xunit;

namespace Actors.Torrent.Tests.Dht;

public sealed class PeerStoreTests
{
    private static readonly DateTime T0 = new(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);
    private static IPEndPoint Peer(int i) => new(IPAddress.Parse($"10.0.{i / 250}.{i % 250 + 1}"), 6881);

    [Fact]
    public void Peers_expire_after_30_minutes_unless_announced_again()
    {
        var store = new PeerStore();
        var hash = NodeId.Random();
        store.Add(hash, Peer(1), T0);
        store.Add(hash, Peer(2), T0);
        store.Add(hash, Peer(2), T0.AddMinutes(20));
        Assert.Equal([Peer(2)], store.Get(hash, 50, T0.AddMinutes(31)));
        store.Expire(T0.AddMinutes(31));
        Assert.Equal(1, store.PeerCount);
        store.Expire(T0.AddMinutes(51));
        Assert.Equal(0, store.InfoHashCount);
    }

    [Fact]
    public void Peers_per_info_hash_and_info_hashes_are_bounded_the_oldest_going_first()
    {
        var store = new PeerStore(maxPeersPerInfoHash: 10, maxInfoHashes: 3);
        var hash = NodeId.Random();
        for (var i = 0; i < 100; i++) store.Add(hash, Peer(i), T0.AddSeconds(i));
        Assert.Equal(10, store.PeerCount);
        Assert.Equal(Enumerable.Range(90, 10).Reverse().Select(Peer), store.Get(hash, 50, T0.AddSeconds(100)));
        for (var i = 0; i < 10; i++) store.Add(NodeId.Random(), Peer(i), T0.AddMinutes(1 + i));
        Assert.Equal(3, store.InfoHashCount);
    }

    [Fact]
    public void Tokens_are_bound_to_the_address_and_survive_one_rotation_only()
    {
        var tokens = new TokenIssuer();
        var a = IPAddress.Parse("10.0.0.1");
        var token = tokens.Issue(a);
        Assert.True(tokens.IsValid(a, token));
        Assert.True(tokens.IsValid(IPAddress.Parse("::ffff:10.0.0.1"), token));
        Assert.False(tokens.IsValid(IPAddress.Parse("10.0.0.2"), token));
        tokens.Rotate();
        Assert.True(tokens.IsValid(a, token));
        tokens.Rotate();
        Assert.False(tokens.IsValid(a, token));
    }

    [Fact]
    public void The_rate_limiter_allows_a_burst_then_the_rate_and_bounds_its_sources()
    {
        var limiter = new SourceRateLimiter(ratePerSecond: 10, burst: 5, maxSources: 3);
        var source = new IPEndPoint(IPAddress.Loopback, 1);
        Assert.Equal(5, Enumerable.Range(0, 20).Count(_ => limiter.Allow(source, T0)));
        Assert.True(limiter.Allow(source, T0.AddMilliseconds(100)));
        Assert.False(limiter.Allow(source, T0.AddMilliseconds(100)));
        Assert.True(limiter.Allow(new IPEndPoint(IPAddress.Loopback, 2), T0));
        Assert.True(limiter.Allow(new IPEndPoint(IPAddress.Loopback, 3), T0));
        Assert.False(limiter.Allow(new IPEndPoint(IPAddress.Loopback, 4), T0)); // table full, nobody idle
        Assert.True(limiter.Allow(new IPEndPoint(IPAddress.Loopback, 4), T0.AddSeconds(1))); // idle ones forgotten
        Assert.True(limiter.SourceCount <= 3);
    }
}
