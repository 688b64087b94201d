using Xunit;

namespace Actors.Host.Tests;

/// <summary>Real processes forming a real cluster over loopback.</summary>
public sealed class ClusterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Two_nodes_join_see_each_others_roles_and_one_leaves_gracefully()
    {
        var seedPort = ActorsProcess.FreePort();
        var webClusterPort = ActorsProcess.FreePort();
        using var seed = new ActorsProcess("seed", "--cluster-port", seedPort.ToString());
        await seed.WaitForLine(l => l.Contains("Member up") && l.Contains($":{seedPort}"), Timeout);

        using var web = new ActorsProcess("web", "--root", AppContext.BaseDirectory, "--host", "127.0.0.1", "--port", "0",
            "--cluster-port", webClusterPort.ToString(), "--seed", $"127.0.0.1:{seedPort}");

        // Each node logs the other as up, with its role.
        await seed.WaitForLine(l => l.Contains("Member up") && l.Contains($":{webClusterPort}") && l.Contains("roles [web]"), Timeout);
        await web.WaitForLine(l => l.Contains("Member up") && l.Contains($":{seedPort}") && l.Contains("roles [seed]"), Timeout);
        Assert.Contains(web.Lines, l => l.Contains($"web@127.0.0.1:{webClusterPort}"));

        web.Signal("TERM");
        Assert.Equal(0, await web.WaitForExit(Timeout));
        // A graceful leave is seen as Removed after Exiting, not as an unreachable crash.
        await seed.WaitForLine(l => l.Contains("Member removed") && l.Contains($":{webClusterPort}") && l.Contains("Exiting"), Timeout);
        Assert.DoesNotContain(seed.Lines, l => l.Contains("unreachable") && l.Contains($":{webClusterPort}"));

        seed.Signal("INT");
        Assert.Equal(0, await seed.WaitForExit(Timeout));
    }
}
