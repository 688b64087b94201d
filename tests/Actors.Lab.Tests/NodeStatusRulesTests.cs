using Actors.Lab.Processes;
using Actors.Lab.Status;
using Akka.Cluster;
using Xunit;

namespace Actors.Lab.Tests;

public sealed class NodeStatusRulesTests
{
    public static TheoryData<MemberStatus?, bool, MemberStatus?, ProcessState?, bool, string> Cases => new()
    {
        { MemberStatus.Up, true, null, ProcessState.Running, true, "up" },
        { MemberStatus.Up, false, null, ProcessState.Gone, true, "unreachable" },
        { MemberStatus.Up, false, null, ProcessState.Paused, true, "paused" },
        { MemberStatus.Down, false, null, ProcessState.Gone, true, "down" },
        { MemberStatus.Leaving, true, null, ProcessState.Running, true, "leaving" },
        { MemberStatus.Joining, true, null, ProcessState.Running, true, "joining" },
        { null, false, MemberStatus.Down, null, true, "down" },
        { null, false, MemberStatus.Exiting, null, true, "stopped" },
        { null, false, MemberStatus.Down, ProcessState.Running, true, "joining" },  // restarted, not yet a member
        { null, false, null, ProcessState.Running, false, "up" },                   // the peer: no cluster member
        { null, false, null, ProcessState.Gone, false, "stopped" },
        { null, false, null, ProcessState.Paused, false, "paused" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Status_words_follow_membership_then_process_state(MemberStatus? member, bool reachable, MemberStatus? removedFrom,
        ProcessState? process, bool clusterMember, string expected) =>
        Assert.Equal(expected, NodeStatusRules.Resolve(member, reachable, removedFrom, process, clusterMember));
}
