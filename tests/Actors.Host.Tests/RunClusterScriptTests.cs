using System.Text;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Host.Tests;

/// <summary>
/// The README's main command, run-cluster.sh, and its PowerShell twin. The bash run also drives the
/// demo through the Lab's link proxies: a download announcing through the tracker link, and a
/// relayed call through the relay link whose RTT rises when a 300 ms latency toxic is added.
/// </summary>
public sealed class RunClusterScriptTests(ITestOutputHelper log)
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Actors.sln not found above the test binaries");
    }

    /// <summary>Runs until SIGTERM (duration 0): the demo runs in between; the script must then stop every node and exit 0.</summary>
    [Fact]
    public Task Bash_script_starts_the_cluster_routes_a_download_and_a_relayed_call_through_link_proxies_and_stops_cleanly() =>
        RunScript("bash", ["run-cluster.sh", "--duration", "0", "--web-port", "{web}", "--seed-port", "{seed}", "--tracker-port", "{tracker}",
            "--rendezvous-port", "{rendezvous}", "--relay-port", "{relay}", "--peer-port", "{peer}", "--lab-port", "{lab}"], DemoThroughLinks);

    [Fact]
    public Task PowerShell_script_starts_a_seed_and_a_web_node_and_stops_them_cleanly() =>
        RunScript("dotnet", ["tool", "run", "pwsh", "--", "-NoProfile", "-File", "run-cluster.ps1",
            "-Duration", "{duration}", "-WebPort", "{web}", "-SeedPort", "{seed}", "-TrackerPort", "{tracker}",
            "-RendezvousPort", "{rendezvous}", "-RelayPort", "{relay}", "-PeerPort", "{peer}", "-LabPort", "{lab}"]);

    private sealed record ClusterPorts(int Web, int Seed, int Tracker, int Rendezvous, int Relay, int Peer, int Lab);

    private async Task RunScript(string file, string[] template, Func<ClusterPorts, Task>? demo = null)
    {
        // The script derives ports (tracker+1, seed+1..seed+6, the links web+10, tracker+10, rendezvous+1, relay+1): draw until none collide.
        int web, seed, tracker, rendezvous, relay, peer, lab;
        do
        {
            (web, seed, tracker, rendezvous, relay, peer, lab) = (ActorsProcess.FreePort(), ActorsProcess.FreePort(), ActorsProcess.FreePort(),
                ActorsProcess.FreePort(), ActorsProcess.FreePort(), ActorsProcess.FreePort(), ActorsProcess.FreePort());
        } while (new[] { web, web + 10, tracker, tracker + 1, tracker + 10, rendezvous, rendezvous + 1, relay, relay + 1, peer, lab }
                     .Concat(Enumerable.Range(seed, 7)).Distinct().Count() != 18);
        const int duration = 12;
        var args = template.Select(arg => arg.Replace("{duration}", duration.ToString()).Replace("{web}", web.ToString()).Replace("{seed}", seed.ToString()).Replace("{tracker}", tracker.ToString())
            .Replace("{rendezvous}", rendezvous.ToString()).Replace("{relay}", relay.ToString()).Replace("{peer}", peer.ToString()).Replace("{lab}", lab.ToString()));
        // The script's own stdin stays open: it stops at --duration, not at end of input.
        using var script = new ProcessRunner(file, args, RepositoryRoot());
        try
        {
            // Building can take a while on a cold machine; then the web node must answer.
            await ActorsProcess.WaitForPort(web, TimeSpan.FromMinutes(3));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var page = Encoding.UTF8.GetString(await FirstAnswer(http, $"http://127.0.0.1:{web}/"));
            Assert.Contains("Served by Actors", page);
            Assert.Equal("hello from the actors web role", (await http.GetStringAsync($"http://127.0.0.1:{web}/files/hello.txt")).Trim());
            // The demo torrent is served with its type, and both trackers answer.
            using var torrent = await http.GetAsync($"http://127.0.0.1:{web}/files/16MiB.bin.torrent");
            Assert.Equal("application/x-bittorrent", torrent.Content.Headers.ContentType?.MediaType);
            await ActorsProcess.WaitForPort(tracker + 1, TimeSpan.FromSeconds(60));
            var scrape = await FirstAnswer(http, $"http://127.0.0.1:{tracker + 1}/scrape");
            Assert.Equal((byte)'d', scrape[0]);
            // The calls nodes and the seeding peer are up too.
            await ActorsProcess.WaitForPort(relay, TimeSpan.FromSeconds(60));
            await ActorsProcess.WaitForPort(rendezvous, TimeSpan.FromSeconds(60));
            await ActorsProcess.WaitForPort(peer, TimeSpan.FromSeconds(60));
            // The Lab answers, and lists the nodes run-cluster started (from their manifests).
            await ActorsProcess.WaitForPort(lab, TimeSpan.FromSeconds(60));
            var status = Encoding.UTF8.GetString(await FirstAnswer(http, $"http://127.0.0.1:{lab}/api/status"));
            foreach (var node in new[] { "\"seed\"", "\"tracker2\"", "\"peer\"", "\"lab\"" })
                Assert.Contains(node, status);

            if (demo is not null)
            {
                await demo(new ClusterPorts(web, seed, tracker, rendezvous, relay, peer, lab));
                script.Signal("TERM"); // what Ctrl-C does, for a script in the background
            }
            await script.WaitForExitAsync(TimeSpan.FromMinutes(2));
        }
        finally
        {
            script.Kill();
        }
        var output = script.Output;
        Assert.True(script.ExitCode == 0, output);
        Assert.Contains($"http://127.0.0.1:{web}/", output);
        Assert.Contains("seed exited with 0", output);
        Assert.Contains("web exited with 0", output);
        Assert.Contains($"http://127.0.0.1:{lab}/#token=", output);
        foreach (var node in new[] { "tracker1", "tracker2", "rendezvous", "relay", "peer", "lab" })
            Assert.Contains($"{node} exited with 0", output);

        // The web node joined the seed's cluster, and left it gracefully.
        var seedLog = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), ".cluster", "logs", "seed.log"));
        Assert.Contains($"://actors@127.0.0.1:{seed + 1} roles [web]", seedLog);
    }

    /// <summary>
    /// The first request to a node the script just started: its port is open, but on 2 cores, with
    /// seven nodes joining the cluster and compiling their first requests at once (and other test
    /// classes running), the first answer once took longer than the 10 s an HTTP request may take
    /// (a fresh-clone run, 2026-11-29: tracker2's first scrape). Asked again until 60 s have passed,
    /// as the ports are waited for; a node that does not answer by then fails the test.
    /// </summary>
    private async Task<byte[]> FirstAnswer(HttpClient http, string url)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await http.GetByteArrayAsync(url);
            }
            catch (Exception ex) when (ex is TaskCanceledException or HttpRequestException && DateTime.UtcNow < deadline && attempt < 10)
            {
                log.WriteLine($"{url}: no answer yet (attempt {attempt}: {ex.GetType().Name}); asking again");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>
    /// The demo's download announces through the tracker link; a call between two callers that
    /// nobody can reach goes through the relay, whose advertised port is the relay link. A 300 ms
    /// latency toxic on the link's upstream delays what each caller sends into the relay, so a ping
    /// (alice → relay) and its pong (bob → relay) each cross it once: the RTT rises by 2 × 300 ms.
    /// </summary>
    private async Task DemoThroughLinks(ClusterPorts ports)
    {
        var timeout = TimeSpan.FromSeconds(90);
        var root = RepositoryRoot();
        var token = (await File.ReadAllTextAsync(Path.Combine(root, ".cluster", "lab.token"))).Trim();
        var labUrl = $"http://127.0.0.1:{ports.Lab}/";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var outDir = Directory.CreateTempSubdirectory("actors-demo-dl-");
        try
        {
            using var leecher = new ActorsProcess("peer", "get", $"http://127.0.0.1:{ports.Web}/files/16MiB.bin.torrent", "--out", outDir.FullName, "--host", "127.0.0.1");
            Assert.True(await leecher.WaitForExit(timeout) == 0, leecher.Output);
            Assert.Contains(leecher.Lines, l => l.Contains("complete and verified"));
        }
        finally { outDir.Delete(true); }
        using (var links = JsonDocument.Parse(await http.GetStringAsync(labUrl + "api/links")))
        {
            var tracker = links.RootElement.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "tracker");
            Assert.True(tracker.GetProperty("acceptedConnections").GetInt64() >= 2, tracker.ToString()); // the seeder's and the leecher's announces
        }

        using var bob = new ActorsProcess("caller", "--id", "bob", "--secret", "bob-secret", "--rendezvous", $"127.0.0.1:{ports.Rendezvous + 1}", "--auto-answer");
        await bob.WaitForLine(l => l.Contains("registered as bob"), timeout);
        var before = await Call(ports);
        using (var toxic = new ActorsProcess("lab", "link", "toxic", "relay", "latency", "--direction", "upstream", "--set", "latency=300", "--lab", labUrl, "--token", token))
            Assert.True(await toxic.WaitForExit(timeout) == 0, toxic.Output);
        var after = await Call(ports);
        log.WriteLine($"relayed call RTT: {before:F0} ms → {after:F0} ms with a 300 ms upstream latency toxic on the relay link");
        Assert.InRange(after - before, 2 * 300 * 0.8, 2 * 300 + 1000);
        bob.Signal("TERM");
        await bob.WaitForExit(timeout);
    }

    /// <summary>
    /// The RTT of one relayed 3 s call from alice to bob. A loaded machine (the whole suite runs in
    /// parallel) has twice spoiled this one call: no ping answered within the 3 s (rttMs null), and
    /// with 6 s calls, the relayed path broken after about 5 s ("no relay available"). Neither was
    /// seen on a quiet machine; both are in the issue notes to be found. So a call that
    /// reports no RTT or failed is placed again, up to three calls, and each report is kept in the
    /// output. (2026-11-28, the Lab's scenarios running beside: two 3 s relayed calls in a row
    /// received 9 and 39 of bob's 149 frames and no pong; alone, the test passed.)
    /// </summary>
    private async Task<double> Call(ClusterPorts ports)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var alice = new ActorsProcess("caller", "--id", "alice", "--secret", "alice-secret", "--rendezvous", $"127.0.0.1:{ports.Rendezvous + 1}",
                "--call", "bob", "--duration", "3");
            var code = await alice.WaitForExit(TimeSpan.FromSeconds(60));
            var line = alice.StdoutLines.SingleOrDefault(l => l.StartsWith('{'));
            using var report = line is null ? null : JsonDocument.Parse(line);
            var rtt = report?.RootElement.GetProperty("rttMs");
            if (code == 0 && rtt is { ValueKind: JsonValueKind.Number } ok)
            {
                Assert.Equal("relay", report!.RootElement.GetProperty("path").GetString());
                return ok.GetDouble();
            }
            log.WriteLine($"call attempt {attempt}: exit {code}, no RTT:\n{alice.Output}");
            Assert.True(attempt < 3, $"three relayed calls in a row without an RTT:\n{alice.Output}");
        }
    }
}
