using System.Text.Json;
using Actors.Lab.Processes;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Lab.Tests;

/// <summary>
/// The lab against real processes (seed, tracker2, lab), through the `actors lab` CLI and the
/// dashboard in headless Chromium: status lists the nodes, a wrong token changes nothing, kill -9
/// turns the node unreachable/down within the failure detector's time, restart brings it back.
/// </summary>
public sealed class LabProcessTests(ITestOutputHelper output)
{
    private static readonly string[] UpOnly = ["up"];
    private static readonly string[] Gone = ["unreachable", "down"];
    private static readonly TimeSpan FailureDetectorBound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Cli_lists_nodes_refuses_a_wrong_token_sees_a_kill_and_restarts_the_node()
    {
        using var cluster = await LabCluster.Start();
        await cluster.WaitForStatus(TimeSpan.FromSeconds(120), UpOnly, "seed", "tracker2", "lab");

        var (code, text) = await cluster.Cli("status", "--json");
        Assert.True(code == 0, text);
        using (var doc = JsonDocument.Parse(text.Trim()))
        {
            var nodes = doc.RootElement.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("name").GetString()!);
            Assert.Equal(["lab", "seed", "tracker2"], nodes.Keys.Order());
            Assert.Equal("tracker", nodes["tracker2"].GetProperty("roles")[0].GetString());
            Assert.Equal("up", nodes["tracker2"].GetProperty("status").GetString());
            Assert.Contains("://actors@127.0.0.1:", nodes["tracker2"].GetProperty("address").GetString());
        }

        // A wrong token: refused, and the tracker goes on running.
        var trackerPid = new ManifestStore(cluster.Manifests).Find("tracker2")!.Pid;
        (code, text) = await cluster.Cli("kill", "tracker2", "--token", "wrong-token-wrong-token");
        Assert.True(code == 1, text);
        Assert.Contains("401", text);
        await Task.Delay(1000);
        Assert.Equal(ProcessState.Running, Posix.State(trackerPid));
        Assert.Equal("up", await cluster.StatusOf("tracker2"));

        (code, text) = await cluster.Cli("kill", "tracker2", "--token", cluster.Token);
        Assert.True(code == 0, text);
        var noticed = await cluster.WaitForStatus(FailureDetectorBound, Gone, "tracker2");
        output.WriteLine($"kill -9 → unreachable/down in the lab's status after {noticed.TotalSeconds:F1} s");
        Assert.Equal(ProcessState.Gone, Posix.State(trackerPid));

        (code, text) = await cluster.Cli("restart", "tracker2", "--token", cluster.Token);
        Assert.True(code == 0, text + "\nlab output:\n" + cluster.Lab.Output);
        Assert.Contains("tracker2 is up", text);
        Assert.NotEqual(trackerPid, new ManifestStore(cluster.Manifests).Find("tracker2")!.Pid);

        (code, text) = await cluster.Cli("tail", "--no-follow", "-n", "200");
        Assert.True(code == 0, text);
        Assert.Contains("fault-refused", text);
        Assert.Contains("killed with SIGKILL", text);
        Assert.Contains("restarted", text);
    }

    [FactRequiringChromium]
    public async Task Dashboard_lists_the_nodes_and_shows_a_killed_node_unreachable_or_down()
    {
        using var cluster = await LabCluster.Start();
        await cluster.WaitForStatus(TimeSpan.FromSeconds(120), UpOnly, "seed", "tracker2", "lab");
        using var page = await HeadlessChromium.Open(cluster.Url + "#token=" + cluster.Token);

        await page.WaitUntil("['seed','tracker2','lab'].every(n => document.querySelector(`.node[data-node='${n}'][data-status='up']`))",
            TimeSpan.FromSeconds(30), "every node listed as up");
        Assert.Equal("3", await page.Evaluate("document.querySelectorAll('#nodes .node').length"));
        Assert.Equal("live", await page.Evaluate("document.getElementById('live').textContent"));
        if (Environment.GetEnvironmentVariable("LAB_SCREENSHOTS") is { Length: > 0 } dir)
            await page.Screenshot(Path.Combine(dir, "lab-dashboard-up.png"));

        // The kill button path: the page's own POST with the token it took from the URL.
        await page.Evaluate("post('/api/nodes/tracker2/kill?signal=KILL')");
        var shown = await page.WaitUntil("['unreachable','down'].includes(document.querySelector(\".node[data-node='tracker2']\").dataset.status)",
            FailureDetectorBound, "tracker2 unreachable or down on the page");
        output.WriteLine($"kill → unreachable/down on the dashboard after {shown.TotalSeconds:F1} s");
        await page.WaitUntil("document.getElementById('events').innerText.includes('killed with SIGKILL')", TimeSpan.FromSeconds(10), "kill in the event log");
        if (Environment.GetEnvironmentVariable("LAB_SCREENSHOTS") is { Length: > 0 } dir2)
            await page.Screenshot(Path.Combine(dir2, "lab-dashboard-killed.png"));
    }
}
