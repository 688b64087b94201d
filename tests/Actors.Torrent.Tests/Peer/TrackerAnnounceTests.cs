using System.Text;
using Actors.Torrent.Peer.Announce;
using Xunit;

namespace Actors.Torrent.Tests.Peer;

/// <summary>The HTTP announce answer's seeder count (<c>complete</c>): what tells a starving torrent that its swarm has a seeder.</summary>
public sealed class TrackerAnnounceTests
{
    [Theory]
    [InlineData("d8:completei3e10:incompletei7e8:intervali60e5:peers0:e", 3)]
    [InlineData("d8:completei0e8:intervali60e5:peers0:e", 0)]
    [InlineData("d8:intervali60e5:peers0:e", null)]
    [InlineData("d8:completei-1e8:intervali60e5:peers0:e", null)]
    public void The_seeders_the_tracker_counts_are_read_when_it_says(string answer, int? seeders)
    {
        var response = TrackerAnnounce.ParseResponse(Encoding.ASCII.GetBytes(answer));
        Assert.Equal(seeders, response.Seeders);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Interval);
    }
}
