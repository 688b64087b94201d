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

    /// <summary>
    /// A lab whose process stalls longer than the failure detector allows (here: SIGSTOP for 25 s,
    /// as a loaded machine does) is downed by the others' SBR; it joins again as a new incarnation,
    /// on the same ports and with the same token, instead of exiting.
    /// </summary>
    [Fact]
    public async Task A_lab_downed_by_the_cluster_joins_again_with_the_same_token()
    {
        using var cluster = await LabCluster.Start();
        await cluster.WaitForStatus(TimeSpan.FromSeconds(120), UpOnly, "seed", "tracker2", "lab");
        var pid = cluster.Lab.Id;
        Assert.True(Posix.Kill(pid, Posix.Signals["STOP"]));
        try
        {
            // unreachable after ~4 s, down after SBR's stable-after (7 s): well within 25 s
            await Task.Delay(TimeSpan.FromSeconds(25));
        }
        finally { Posix.Kill(pid, Posix.Signals["CONT"]); }
        await cluster.Lab.WaitForLine(l => l.Contains("downed by the cluster; joining again"), TimeSpan.FromSeconds(60));
        // The new incarnation prints its URL once its HTTP server is bound again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (cluster.Lab.Lines.Count(l => l.StartsWith("Lab: http://", StringComparison.Ordinal)) < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(250);
        var back = await cluster.WaitForStatus(TimeSpan.FromSeconds(90), UpOnly, "seed", "tracker2", "lab");
        output.WriteLine($"the downed lab was up again {back.TotalSeconds:F1} s after it said it would join again");
        Assert.False(cluster.Lab.HasExited);
        var (code, text) = await cluster.Cli("heal", "--token", cluster.Token); // the token it had before
        Assert.True(code == 0, text);
    }

    [Fact]
    public async Task Cli_partitions_and_heals_the_cluster_and_puts_toxics_on_a_link()
    {
        using var cluster = await LabCluster.Start();
        await cluster.WaitForStatus(TimeSpan.FromSeconds(120), UpOnly, "seed", "tracker2", "lab");

        // Two-way partition of tracker2: SBR (keep-majority) downs it; heal, then restart brings it back.
        var (code, text) = await cluster.Cli("partition", "tracker2", "--token", cluster.Token);
        Assert.True(code == 0, text + "\nlab output:\n" + cluster.Lab.Output);
        Assert.Contains("[tracker2] | [", text);
        var cut = await cluster.WaitForStatus(FailureDetectorBound, Gone, "tracker2");
        output.WriteLine($"partition → tracker2 unreachable/down after {cut.TotalSeconds:F1} s");
        (code, text) = await cluster.Cli("heal", "--token", cluster.Token);
        Assert.True(code == 0, text);
        await cluster.WaitForStatus(TimeSpan.FromSeconds(60), ["down", "stopped", "joining", "up"], "tracker2");
        (code, text) = await cluster.Cli("restart", "tracker2", "--token", cluster.Token);
        Assert.True(code == 0, text + "\nlab output:\n" + cluster.Lab.Output);
        await cluster.WaitForStatus(TimeSpan.FromSeconds(60), UpOnly, "seed", "tracker2", "lab");

        // An application link to the tracker's HTTP port, then a 300 ms latency toxic on it.
        var listen = cluster.FreePort();
        (code, text) = await cluster.Cli("link", "add", "tracker", "--listen", $"127.0.0.1:{listen}", "--upstream", $"127.0.0.1:{cluster.TrackerHttpPort}", "--token", cluster.Token);
        Assert.True(code == 0, text);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var direct = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal((byte)'d', (await http.GetByteArrayAsync($"http://127.0.0.1:{listen}/scrape"))[0]);
        direct.Stop();
        (code, text) = await cluster.Cli("link", "toxic", "tracker", "latency", "--direction", "downstream", "--set", "latency=300", "--token", cluster.Token);
        Assert.True(code == 0, text);
        (code, text) = await cluster.Cli("link", "list");
        Assert.True(code == 0, text);
        Assert.Contains("\"latency\":300", text);
        using var slowed = new HttpClient { Timeout = TimeSpan.FromSeconds(30) }; // a fresh connection through the link
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal((byte)'d', (await slowed.GetByteArrayAsync($"http://127.0.0.1:{listen}/scrape"))[0]);
        output.WriteLine($"scrape through the link: {direct.ElapsedMilliseconds} ms, with 300 ms latency downstream: {watch.ElapsedMilliseconds} ms");
        Assert.True(watch.ElapsedMilliseconds >= 300, $"{watch.ElapsedMilliseconds} ms");
        (code, text) = await cluster.Cli("link", "clear", "tracker", "--token", cluster.Token);
        Assert.True(code == 0, text);

        (code, text) = await cluster.Cli("tail", "--no-follow", "-n", "300");
        Assert.Contains("partition tracker2", text);
        Assert.Contains("healed", text);
        Assert.Contains("toxic added", text);
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
        // The first render may come from the page's initial fetch; the SSE stream opens beside it.
        await page.WaitUntil("document.getElementById('live').textContent === 'live'", TimeSpan.FromSeconds(15), "the event stream open");
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
