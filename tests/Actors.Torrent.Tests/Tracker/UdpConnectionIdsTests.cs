using System.Net;
using Actors.Torrent.Tracker.Udp;
using Xunit;

namespace Actors.Torrent.Tests.Tracker;

public sealed class UdpConnectionIdsTests
{
    private static readonly byte[] Secret = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly IPEndPoint Client = new(IPAddress.Parse("192.0.2.10"), 40000);

    private long _now = 1_000_000;

    private UdpConnectionIds Ids(byte[]? secret = null) => new(secret ?? Secret, TimeSpan.FromMinutes(2), () => _now);

    [Fact]
    public void An_id_is_valid_for_its_source_for_at_least_one_window_and_at_most_two()
    {
        var ids = Ids();
        _now = 120 * 10_000; // the start of a window
        var id = ids.Issue(Client);
        Assert.True(ids.IsValid(id, Client));
        _now += 119;
        Assert.True(ids.IsValid(id, Client));
        _now += 120; // 239 s after issue: the previous window still counts
        Assert.True(ids.IsValid(id, Client));
        _now += 1; // two whole windows later
        Assert.False(ids.IsValid(id, Client));
    }

    [Fact]
    public void An_id_issued_at_the_end_of_a_window_still_lives_a_whole_window()
    {
        var ids = Ids();
        _now = 120 * 10_000 + 119;
        var id = ids.Issue(Client);
        _now += 120;
        Assert.True(ids.IsValid(id, Client));
        _now += 1;
        Assert.False(ids.IsValid(id, Client));
    }

    [Fact]
    public void An_id_is_bound_to_the_address_and_port_it_was_sent_to()
    {
        var ids = Ids();
        var id = ids.Issue(Client);
        Assert.False(ids.IsValid(id, new IPEndPoint(Client.Address, Client.Port + 1)));
        Assert.False(ids.IsValid(id, new IPEndPoint(IPAddress.Parse("192.0.2.11"), Client.Port)));
        Assert.False(ids.IsValid(id ^ 1, Client));
        // The same IPv4 source reported by a dual-stack socket is the same source.
        Assert.True(ids.IsValid(id, new IPEndPoint(Client.Address.MapToIPv6(), Client.Port)));
    }

    [Fact]
    public void Without_the_secret_an_id_cannot_be_computed()
    {
        var other = Secret.ToArray();
        other[0] ^= 1;
        Assert.NotEqual(Ids().Issue(Client), Ids(other).Issue(Client));
        Assert.False(Ids(other).IsValid(Ids().Issue(Client), Client));
    }

    [Fact]
    public void Ids_spread_over_64_bits()
    {
        var ids = Ids();
        var issued = Enumerable.Range(1, 10_000).Select(p => ids.Issue(new IPEndPoint(Client.Address, p))).ToList();
        Assert.Equal(issued.Count, issued.Distinct().Count());
        Assert.InRange(issued.Count(id => id < 0), 4_500, 5_500);
    }

    [Fact]
    public void A_short_secret_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new UdpConnectionIds(new byte[8], TimeSpan.FromMinutes(2)));
    }
}
