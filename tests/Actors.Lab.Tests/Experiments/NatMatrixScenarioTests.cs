using System.Text.Json;
using Actors.Lab.Experiments;
using Actors.Lab.Nat;
using Actors.Net.Configuration;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Lab.Tests.Experiments;

/// <summary>
/// The <c>nat-matrix</c> scenario kind: the file format and the cell checks (pure), and one real
/// run of a reduced matrix (cone and symmetric NATs: four calls, one rendezvous, one relay) through
/// <c>actors lab run</c>, as a user runs it. The full nine-cell matrix runs in the Calls NAT tests,
/// through the same <see cref="NatMatrix"/> code.
/// </summary>
public sealed class NatMatrixScenarioTests(ITestOutputHelper output)
{
    private static readonly string Shipped = Path.Combine(AppContext.BaseDirectory, "lab-scenarios", "nat-matrix.conf");

    [Fact]
    public void The_shipped_nat_matrix_scenario_reads_as_every_pair_of_three_kinds()
    {
        var s = ScenarioFile.Load(Shipped);
        Assert.NotNull(s.Nat);
        Assert.Equal([NatMatrix.Kind.Public, NatMatrix.Kind.Cone, NatMatrix.Kind.Symmetric], s.Nat.Kinds);
        Assert.Equal(TimeSpan.FromSeconds(1.5), s.Nat.CallDuration);
        Assert.Equal(["nat-paths", "nat-udp"], s.Checks.Select(c => c.Type));
        Assert.Equal(["seed", "rendezvous", "rendezvous", "relay", "relay"], s.Nodes.Select(n => n.Role));
        // A later assignment narrows the matrix (what the run test below does).
        var narrowed = ScenarioFile.Parse(File.ReadAllText(Shipped) + "\nscenario.nat.kinds = [cone]\n");
        Assert.Equal([NatMatrix.Kind.Cone], narrowed.Nat!.Kinds);
    }

    [Theory]
    [InlineData("kinds = [public, cone, symmetric]", "kinds = [public, carrier-grade]", "scenario.nat.kinds")]
    [InlineData("kinds = [public, cone, symmetric]", "kinds = []", "scenario.nat.kinds")]
    [InlineData("{ type = nat-paths }", "{ type = calls-survive }", "scenario.checks[0].type")]
    [InlineData("{ name = relay2, role = relay }", "{ name = relay2, role = relay }\n { name = relay3, role = relay }", "scenario.nodes")]
    [InlineData("{ name = relay2, role = relay }", "{ name = tracker, role = tracker }", "scenario.nodes[4].role")]
    [InlineData("kind = nat-matrix", "kind = nat-matrix\n  method = [ { at = 1s, fault = kill, node = relay1 } ]", "scenario.method")]
    [InlineData("kind = nat-matrix", "kind = mesh", "scenario.kind")]
    public void A_bad_nat_matrix_scenario_is_refused_naming_the_key(string replace, string with, string key)
    {
        var text = File.ReadAllText(Shipped);
        Assert.Contains(replace, text);
        var ex = Assert.Throws<SettingsException>(() => ScenarioFile.Parse(text.Replace(replace, with)));
        Assert.Equal(key, ex.Key);
    }

    private static JsonElement Report(string role, string path, int? attempts, int pathChanges = 0, bool udpUp = false, string mediaPath = "tcp") =>
        JsonSerializer.SerializeToElement(new
        {
            role, result = "completed", callId = "c-1", path, framesReceived = 70, pathChanges, punchAttempts = attempts, setupMs = 412.5, mediaPath,
            udp = new { up = udpUp, framesReceived = udpUp ? 70 : 0, rejected = 0, rttMs = 0.4, loss = 0 },
        });

    [Fact]
    public void A_cell_holds_on_its_expected_path_and_fails_naming_the_path_it_took()
    {
        var cone = new NatCell(NatMatrix.Kind.Cone, NatMatrix.Kind.Cone, "c1", "c2",
            Report("caller", "holepunch", 1, udpUp: true, mediaPath: "udp"), Report("callee", "holepunch", 1, udpUp: true, mediaPath: "udp"), null);
        Assert.All(NatMatrix.Check([cone], 10), c => Assert.True(c.Passed, c.Detail));
        Assert.Contains("holepunch 412 ms, 1 punch", NatMatrix.Render([cone]));

        // Cone ↔ cone that went through the relay: the path check fails and says so.
        var relayed = cone with { Caller = Report("caller", "relay", 3), Callee = Report("callee", "relay", 3) };
        var failed = NatMatrix.Check([relayed], 10).Where(c => !c.Passed).ToList();
        Assert.Contains(failed, c => c.Check == "path" && c.Detail.Contains("path relay, want holepunch"));
        Assert.Contains(failed, c => c.Check == "udp");

        // Punched, then moved to a relay mid-call: not "the relay never carried a byte".
        var moved = cone with { Caller = Report("caller", "holepunch", 1, pathChanges: 1, udpUp: true, mediaPath: "udp") };
        Assert.Contains(NatMatrix.Check([moved], 10), c => !c.Passed && c.Detail.Contains("path changes"));

        // Symmetric → cone relayed without a punch attempt, and a cell whose reports never came.
        var lazy = new NatCell(NatMatrix.Kind.Symmetric, NatMatrix.Kind.Cone, "s1", "c1", Report("caller", "relay", null), Report("callee", "relay", null), null);
        Assert.Contains(NatMatrix.Check([lazy], 10), c => !c.Passed && c.Detail.Contains("without trying to punch"));
        var silent = lazy with { Caller = null, Callee = null, Error = "no report from s1 within 45 s" };
        Assert.All(NatMatrix.Check([silent], 10), c => Assert.False(c.Passed));
        Assert.Contains("no report", NatMatrix.Render([silent]));
    }

    /// <summary>
    /// <c>actors lab run</c> of the shipped file narrowed to cone and symmetric NATs and one
    /// rendezvous and relay: exit 0, the matrix in report.md and report.json (cone ↔ cone
    /// punched, the rest relayed), and no namespace of the run left behind.
    /// </summary>
    [NatFact]
    public async Task Nat_matrix_scenario_runs_punches_cone_pairs_relays_symmetric_ones_and_leaves_no_namespace()
    {
        using var temp = new TempDirectory("lab-run-nat-");
        var file = Path.Combine(temp.Path, "nat-matrix.conf");
        await File.WriteAllTextAsync(file, await File.ReadAllTextAsync(Shipped) + """

            # Narrowed for the test: four calls, one rendezvous, one relay.
            scenario.nat.kinds = [cone, symmetric]
            scenario.nodes = [ { name = seed, role = seed }, { name = rdv1, role = rendezvous }, { name = relay1, role = relay } ]
            """);
        var before = LabNamespaces();
        int code;
        string text;
        using (var run = new ActorsProcess(["lab", "run", file, "--out", temp.Path]))
        {
            code = await run.WaitForExit(TimeSpan.FromSeconds(240));
            text = run.Output;
        }
        output.WriteLine(text);
        // Every namespace the run made is gone (their veths and iptables rules live only inside them).
        Assert.Empty(LabNamespaces().Except(before));
        Assert.True(code == 0, text);
        var bundle = Directory.EnumerateDirectories(Path.Combine(temp.Path, "nat-matrix")).Single();
        var md = await File.ReadAllTextAsync(Path.Combine(bundle, "report.md"));
        Assert.Contains("# nat-matrix: PASSED", md);
        Assert.Contains("| caller ↓ callee → | Cone | Symmetric |", md);
        Assert.Contains("every namespace, veth and iptables rule removed", md);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bundle, "report.json")));
        var cells = report.RootElement.GetProperty("details").EnumerateArray().ToList();
        Assert.Equal(4, cells.Count);
        foreach (var cell in cells)
        {
            var want = cell.GetProperty("from").GetString() == "cone" && cell.GetProperty("to").GetString() == "cone" ? "holepunch" : "relay";
            Assert.Equal(want, cell.GetProperty("path").GetString());
            Assert.True(cell.GetProperty("setupMs").GetDouble() > 0);
        }
        Assert.Equal(8 + 1, report.RootElement.GetProperty("results").GetArrayLength()); // 4 cells × (path, udp) + teardown
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(bundle, "logs"), "*.log"));
    }

    /// <summary>
    /// Ctrl-C while the world is being built: the run stops, says so, exits 1, and leaves no
    /// namespace and no process of its own behind (the runtime's default would end the process
    /// at once, leaving both).
    /// </summary>
    [NatFact]
    public async Task Ctrl_C_during_a_nat_matrix_run_tears_every_namespace_and_process_down()
    {
        using var temp = new TempDirectory("lab-run-nat-int-");
        using var run = new ActorsProcess(["lab", "run", Shipped, "--out", temp.Path]);
        var prefix = $"{NatMatrixRunner.Stem}{run.Id}-";
        // Mid-build: all 16 namespaces exist and the cluster nodes are starting in them.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (LabNamespaces().Count(n => n.StartsWith(prefix, StringComparison.Ordinal)) < 16)
        {
            Assert.True(DateTime.UtcNow < deadline && !run.HasExited, run.Output);
            await Task.Delay(100);
        }
        await Task.Delay(3000);
        run.Signal("INT");
        var code = await run.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(run.Output);
        Assert.True(code == 1, run.Output);
        Assert.Contains("SIGINT: stopping and tearing everything down", run.Output);
        Assert.Contains("nat-matrix FAILED (seed 1: setup: run)", run.Output);
        Assert.DoesNotContain(LabNamespaces(), n => n.StartsWith(prefix, StringComparison.Ordinal));
        // The nodes' and callers' command lines name the run's users file or caller config (labnat-PID-…).
        var tag = $"{NatMatrixRunner.Stem}-{run.Id}-";
        var alive = Directory.EnumerateDirectories("/proc").Select(d => Path.Combine(d, "cmdline")).Where(File.Exists)
            .Select(f => { try { return File.ReadAllText(f).Replace('\0', ' '); } catch (IOException) { return ""; } catch (UnauthorizedAccessException) { return ""; } })
            .Where(c => c.Contains(tag, StringComparison.Ordinal)).ToList();
        Assert.True(alive.Count == 0, string.Join("\n", alive));
    }

    private static List<string> LabNamespaces() =>
        [.. NatNetwork.Run("ip", "netns list", check: false).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0]).Where(n => n.StartsWith(NatMatrixRunner.Stem, StringComparison.Ordinal))];

    /// <summary>Without root the scenario cannot build namespaces: exit 1 and one line saying why, nothing started.</summary>
    [Fact]
    public async Task Without_root_the_nat_matrix_scenario_exits_1_with_one_line()
    {
        using var temp = new TempDirectory("lab-run-nat-noroot-");
        var file = Path.Combine(temp.Path, "nat-matrix.conf");
        File.Copy(Shipped, file);
        // As root, drop to nobody for the run (setpriv, util-linux); otherwise we are already not root.
        var root = Environment.UserName == "root";
        if (root) Tools.Require("setpriv");
        string[] command = root
            ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", NsProcess.ActorsDll, "lab", "run", file, "--out", temp.Path]
            : ["dotnet", NsProcess.ActorsDll, "lab", "run", file, "--out", temp.Path];
        if (root && !OperatingSystem.IsWindows()) File.SetUnixFileMode(temp.Path, (UnixFileMode)0x1FF); // nobody may write the bundle folder (it must not get that far)
        var result = await ProcessRunner.RunAsync(command[0], command[1..], TimeSpan.FromSeconds(60),
            environment: new Dictionary<string, string> { ["DOTNET_CLI_HOME"] = temp.Path, ["HOME"] = temp.Path });
        Assert.True(result.ExitCode == 1, result.Output);
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.Output);
        Assert.Contains("nat-matrix builds network namespaces and cannot run here: network namespaces need root", lines[0]);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "nat-matrix")));
    }
}
