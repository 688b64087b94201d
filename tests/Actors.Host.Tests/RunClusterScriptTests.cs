using Xunit;

namespace Actors.Host.Tests;

/// <summary>The README's main command, run-cluster.sh, and its PowerShell twin, run for a few seconds each.</summary>
public sealed class RunClusterScriptTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Actors.sln not found above the test binaries");
    }

    [Fact]
    public Task Bash_script_starts_a_seed_and_a_web_node_and_stops_them_cleanly() =>
        RunScript("bash", ["run-cluster.sh", "--duration", "{duration}", "--web-port", "{web}", "--seed-port", "{seed}", "--tracker-port", "{tracker}",
            "--rendezvous-port", "{rendezvous}", "--relay-port", "{relay}", "--peer-port", "{peer}", "--lab-port", "{lab}"]);

    [Fact]
    public Task PowerShell_script_starts_a_seed_and_a_web_node_and_stops_them_cleanly() =>
        RunScript("dotnet", ["tool", "run", "pwsh", "--", "-NoProfile", "-File", "run-cluster.ps1",
            "-Duration", "{duration}", "-WebPort", "{web}", "-SeedPort", "{seed}", "-TrackerPort", "{tracker}",
            "-RendezvousPort", "{rendezvous}", "-RelayPort", "{relay}", "-PeerPort", "{peer}", "-LabPort", "{lab}"]);

    private static async Task RunScript(string file, string[] template)
    {
        // The script derives ports (tracker+1, seed+1..seed+6, the links web+10 and rendezvous+1): draw until none collide.
        int web, seed, tracker, rendezvous, relay, peer, lab;
        do
        {
            (web, seed, tracker, rendezvous, relay, peer, lab) = (ActorsProcess.FreePort(), ActorsProcess.FreePort(), ActorsProcess.FreePort(),
                ActorsProcess.FreePort(), ActorsProcess.FreePort(), ActorsProcess.FreePort(), ActorsProcess.FreePort());
        } while (new[] { web, web + 10, tracker, tracker + 1, rendezvous, rendezvous + 1, relay, peer, lab }.Concat(Enumerable.Range(seed, 7)).Distinct().Count() != 16);
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
            var page = await http.GetStringAsync($"http://127.0.0.1:{web}/");
            Assert.Contains("Served by Actors", page);
            Assert.Equal("hello from the actors web role", (await http.GetStringAsync($"http://127.0.0.1:{web}/files/hello.txt")).Trim());
            // The demo torrent is served with its type, and both trackers answer.
            using var torrent = await http.GetAsync($"http://127.0.0.1:{web}/files/16MiB.bin.torrent");
            Assert.Equal("application/x-bittorrent", torrent.Content.Headers.ContentType?.MediaType);
            await ActorsProcess.WaitForPort(tracker + 1, TimeSpan.FromSeconds(60));
            var scrape = await http.GetByteArrayAsync($"http://127.0.0.1:{tracker + 1}/scrape");
            Assert.Equal((byte)'d', scrape[0]);
            // The calls nodes and the seeding peer are up too.
            await ActorsProcess.WaitForPort(relay, TimeSpan.FromSeconds(60));
            await ActorsProcess.WaitForPort(rendezvous, TimeSpan.FromSeconds(60));
            await ActorsProcess.WaitForPort(peer, TimeSpan.FromSeconds(60));
            // The Lab answers, and lists the nodes run-cluster started (from their manifests).
            await ActorsProcess.WaitForPort(lab, TimeSpan.FromSeconds(60));
            var status = await http.GetStringAsync($"http://127.0.0.1:{lab}/api/status");
            foreach (var node in new[] { "\"seed\"", "\"tracker2\"", "\"peer\"", "\"lab\"" })
                Assert.Contains(node, status);

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
}
