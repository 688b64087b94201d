using Actors.Lab.Processes;
using Akka.Cluster;

namespace Actors.Lab.Status;

/// <summary>
/// How the lab names a node's state, from what the cluster says and what /proc says:
/// a paused process is <c>paused</c> whatever the cluster thinks; a member is <c>up</c>,
/// <c>joining</c>, <c>leaving</c>, <c>unreachable</c> or <c>down</c>; a removed member is
/// <c>down</c> if it was downed (killed, partitioned away) and <c>stopped</c> if it left;
/// a process that is not (or not yet) a member is <c>up</c> when it is no cluster member at all
/// (the peer), <c>joining</c> when it should be one, and <c>stopped</c> when it is gone.
/// </summary>
public static class NodeStatusRules
{
    public static string Resolve(MemberStatus? member, bool reachable, MemberStatus? removedFrom, ProcessState? process, bool clusterMember)
    {
        if (process == ProcessState.Paused) return "paused";
        if (member is { } status)
        {
            return status switch
            {
                MemberStatus.Down => "down",
                MemberStatus.Leaving or MemberStatus.Exiting => reachable ? "leaving" : "unreachable",
                MemberStatus.Joining or MemberStatus.WeaklyUp => reachable ? "joining" : "unreachable",
                MemberStatus.Removed => removedFrom == MemberStatus.Down ? "down" : "stopped",
                _ => reachable ? "up" : "unreachable",
            };
        }
        if (process == ProcessState.Running) return clusterMember ? "joining" : "up";
        if (removedFrom is { } previous) return previous == MemberStatus.Down ? "down" : "stopped";
        return "stopped";
    }
}
