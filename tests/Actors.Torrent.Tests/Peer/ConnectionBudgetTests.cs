using System.Diagnostics;
using System.Net.Sockets;
using Actors.Torrent.Peer;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Connections;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

public sealed class ConnectionBudgetTests
{
    private long _now = 1_000_000;
    private long Now() => _now;
    private void Advance(TimeSpan by) => _now += (long)(by.TotalSeconds * Stopwatch.Frequency);

    private ConnectionBudget Budget(ConnectionLimits limits, int? descriptors = 1_000_000) =>
        new(limits, descriptorLimit: descriptors, descriptorsInUse: 0, clock: Now);

    [Fact]
    public void Capacity_stays_below_the_descriptor_limit_whatever_is_configured()
    {
        var budget = Budget(new ConnectionLimits { MaxConnections = 50_000, ReservedDescriptors = 256 }, descriptors: 20_000);
        Assert.Equal(20_000 - 256, budget.Capacity);
        for (var i = 0; i < 1000; i++) budget.AddTorrent();
        Assert.Equal(20_000 - 256 - 1000 * 3, budget.Capacity); // a listener and files per torrent
        Assert.Equal(100, Budget(new ConnectionLimits { MaxConnections = 100 }).Capacity);
    }

    [Fact]
    public void Many_torrents_share_the_budget_instead_of_dialling_everyone()
    {
        var budget = Budget(new ConnectionLimits { MaxConnections = 16_000 });
        for (var i = 0; i < 1000; i++) budget.AddTorrent();
        Assert.Equal(16, budget.FairShare(maxPeers: 50));
        for (var i = 0; i < 999; i++) budget.RemoveTorrent();
        Assert.Equal(50, budget.FairShare(maxPeers: 50));
        var tiny = Budget(new ConnectionLimits { MaxConnections = 10, MinPeersPerTorrent = 4 });
        for (var i = 0; i < 100; i++) tiny.AddTorrent();
        Assert.Equal(4, tiny.FairShare(maxPeers: 50)); // never starved to zero
    }

    [Fact]
    public void A_torrent_refused_a_dial_is_woken_when_a_slot_comes_back_once_in_the_order_asked()
    {
        using var system = Akka.Actor.ActorSystem.Create("budget-wake");
        var first = new Akka.TestKit.Xunit2.TestKit(system).CreateTestProbe();
        var second = new Akka.TestKit.Xunit2.TestKit(system).CreateTestProbe();
        var stopped = new Akka.TestKit.Xunit2.TestKit(system).CreateTestProbe();
        var budget = Budget(new ConnectionLimits { MaxConnections = 100, MaxHalfOpen = 2, ConnectsPerSecond = 1000 });
        Assert.True(budget.TryStartDial() && budget.TryStartDial());
        Assert.False(budget.TryStartDial());
        budget.WakeWhenDialSlotFrees(stopped.Ref);
        budget.WakeWhenDialSlotFrees(first.Ref);
        budget.WakeWhenDialSlotFrees(second.Ref);
        budget.WakeWhenDialSlotFrees(first.Ref); // asking twice is one wait
        budget.StopWaiting(stopped.Ref);          // its torrent stopped: skipped
        Assert.Equal(2, budget.WaitingForDial);

        budget.DialConnected();
        first.ExpectMsg<ConnectionBudget.DialSlotFree>();
        second.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        budget.DialEnded();
        second.ExpectMsg<ConnectionBudget.DialSlotFree>();
        budget.Closed(); // nobody waits any more: nobody is told
        first.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        stopped.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(0, budget.WaitingForDial);
    }

    [Fact]
    public void Dials_stop_at_the_half_open_limit_the_capacity_and_the_connect_rate()
    {
        var budget = Budget(new ConnectionLimits { MaxConnections = 100, MaxHalfOpen = 3, ConnectsPerSecond = 1000 });
        Assert.True(budget.TryStartDial() && budget.TryStartDial() && budget.TryStartDial());
        Assert.False(budget.TryStartDial());
        budget.DialConnected();
        Assert.True(budget.TryStartDial());
        Assert.Equal((1, 3), (budget.Open, budget.HalfOpen));

        var rate = Budget(new ConnectionLimits { MaxConnections = 100, MaxHalfOpen = 100, ConnectsPerSecond = 5 });
        var started = Enumerable.Range(0, 20).Count(_ => rate.TryStartDial());
        Assert.Equal(5, started);
        Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(2, Enumerable.Range(0, 20).Count(_ => rate.TryStartDial()));

        var full = Budget(new ConnectionLimits { MaxConnections = 4, MinPeersPerTorrent = 1 });
        Assert.Equal(4, Enumerable.Range(0, 4).Count(_ => full.TryAccept()));
        Assert.False(full.TryAccept());
        Assert.False(full.TryStartDial());
        Assert.True(full.IsTight);
        full.Closed();
        Assert.True(full.TryStartDial());
        Assert.Equal(1, full.Stats().InboundRefused);
    }

    [Fact]
    public void A_budget_full_of_its_own_connections_still_accepts_a_few_from_elsewhere_and_dials_leave_room_for_their_other_end()
    {
        var budget = Budget(new ConnectionLimits { MaxConnections = 1024, MaxHalfOpen = 2000, ConnectsPerSecond = 100_000 });
        Assert.Equal(64, budget.InboundReserve);
        // Pairs of our own peers: each dial and its accept, until a dial finds no room for both ends.
        var pairs = 0;
        while (budget.TryStartDial())
        {
            budget.DialConnected();
            Assert.True(budget.TryAccept());
            pairs++;
        }
        Assert.Equal(512, pairs);
        Assert.Equal(1024, budget.Open);
        // Peers from elsewhere: 64 more, then refused.
        Assert.Equal(64, Enumerable.Range(0, 100).Count(_ => budget.TryAccept()));
        Assert.Equal(36, budget.Stats().InboundRefused);

        Assert.Equal(0, Budget(new ConnectionLimits { MaxConnections = 100 }).InboundReserve); // a small budget keeps none
    }

    [Fact]
    public void Running_out_pauses_every_dial_with_a_doubling_back_off()
    {
        var budget = Budget(new ConnectionLimits { MaxConnections = 100, MaxBackoff = TimeSpan.FromSeconds(4) });
        Assert.Equal(TimeSpan.FromSeconds(1), budget.ReportExhausted());
        Assert.False(budget.TryStartDial());
        // More failures during the pause do not extend it.
        Assert.True(budget.ReportExhausted() <= TimeSpan.FromSeconds(1));
        Advance(TimeSpan.FromSeconds(1.1));
        Assert.True(budget.TryStartDial());
        budget.DialEnded();
        Assert.Equal(TimeSpan.FromSeconds(2), budget.ReportExhausted());
        Advance(TimeSpan.FromSeconds(2.1));
        Assert.Equal(TimeSpan.FromSeconds(4), budget.ReportExhausted());
        Advance(TimeSpan.FromSeconds(4.1));
        Assert.Equal(TimeSpan.FromSeconds(4), budget.ReportExhausted()); // capped
        Advance(TimeSpan.FromSeconds(4.1));
        Assert.True(budget.TryStartDial());
        budget.DialConnected(); // a success ends the back-off
        Assert.Equal(TimeSpan.FromSeconds(1), budget.ReportExhausted());
        Assert.Equal(6, budget.Stats().Exhaustions);
    }

    [Fact]
    public void Out_of_descriptors_and_ports_are_told_apart_from_unreachable_peers()
    {
        Assert.True(PeerConnection.IsOutOfResources(new SocketException((int)SocketError.TooManyOpenSockets)));
        Assert.True(PeerConnection.IsOutOfResources(new SocketException((int)SocketError.AddressNotAvailable)));
        Assert.True(PeerConnection.IsOutOfResources(new InvalidOperationException("wrapped", new SocketException((int)SocketError.TooManyOpenSockets))));
        Assert.False(PeerConnection.IsOutOfResources(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.False(PeerConnection.IsOutOfResources(new SocketException((int)SocketError.TimedOut)));
    }

    [Fact]
    public void The_descriptor_limit_is_read_from_the_process()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.True(DescriptorLimit.Current() > 0);
        Assert.True(DescriptorLimit.OpenNow() > 0);
    }
}
