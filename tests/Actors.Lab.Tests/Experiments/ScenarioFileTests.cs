using System.Text;
using Actors.Lab.Experiments;
using Actors.Net.Configuration;
using Xunit;

namespace Actors.Lab.Tests.Experiments;

/// <summary>The scenario format (pure): every shipped file reads, bad files name the key, plans are seeded.</summary>
public sealed class ScenarioFileTests
{
    private static string Shipped(string name) => Path.Combine(AppContext.BaseDirectory, "lab-scenarios", name + ".conf");

    public static TheoryData<string> ShippedScenarios() =>
        new(Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "lab-scenarios"), "*.conf").Select(Path.GetFileNameWithoutExtension).Order()!);

    [Theory]
    [MemberData(nameof(ShippedScenarios))]
    public void Every_shipped_scenario_reads_and_names_itself_after_its_file(string name)
    {
        var scenario = ScenarioFile.Load(Shipped(name));
        Assert.Equal(name, scenario.Name);
        Assert.Equal("seed", scenario.Nodes[0].Role);
        Assert.NotEmpty(scenario.Checks);
    }

    private const string Minimal = """
        scenario {
          name = t
          duration = 10s
          nodes = [ { name = seed, role = seed }, { name = tracker1, role = tracker } ]
          load { announces { rate = 5 } }
          steady-state { within = 5s, probes = [ { type = nodes-up } ] }
          method = [ { at = 2s, fault = kill, node = tracker1 }, { at = 1s, fault = toxic, link = x, type = latency, latency = 100 } ]
          checks = [ { type = announces-kept } ]
        }
        """;

    [Fact]
    public void A_minimal_scenario_gets_defaults_and_its_method_in_time_order()
    {
        var s = ScenarioFile.Parse(Minimal);
        Assert.Equal(["tracker1"], s.Load.Announces!.Trackers);
        Assert.Equal(["seed", "tracker1"], s.SteadyState.Probes[0].Nodes);
        Assert.Equal(["toxic", "kill"], s.Method.Select(m => m.Action));
        Assert.Equal("latency", s.Method[0].Attributes["type"]);
        Assert.Equal("100", s.Method[0].Attributes["latency"]);
        Assert.Equal(TimeSpan.FromSeconds(15), s.Checks[0].Within);
    }

    [Theory]
    [InlineData("nodes = [ { name = seed, role = seed }, { name = tracker1, role = tracker } ]", "nodes = [ { name = seed, role = bogus } ]", "scenario.nodes[0].role")]
    [InlineData("nodes = [ { name = seed, role = seed }, { name = tracker1, role = tracker } ]", "nodes = [ { name = tracker1, role = tracker } ]", "scenario.nodes[0].role")]
    [InlineData("{ at = 2s, fault = kill, node = tracker1 }", "{ at = 2s, fault = kill, node = nobody }", "scenario.method[0].node")]
    [InlineData("{ at = 2s, fault = kill, node = tracker1 }", "{ at = 20s, fault = kill, node = tracker1 }", "scenario.method[0].at")]
    [InlineData("{ at = 2s, fault = kill, node = tracker1 }", "{ at = soon, fault = kill, node = tracker1 }", "scenario.method[0].at")]
    [InlineData("{ at = 2s, fault = kill, node = tracker1 }", "{ at = 2s, fault = explode, node = tracker1 }", "scenario.method[0].fault")]
    [InlineData("type = latency, latency = 100", "latency = 100", "scenario.method[1].type")]
    [InlineData("{ type = announces-kept }", "{ type = files-identical }", "scenario.checks[0]")]
    [InlineData("announces { rate = 5 }", "announces { rate = 0 }", "scenario.load.announces.rate")]
    [InlineData("probes = [ { type = nodes-up } ]", "probes = [ { type = nodes-up, nodes = [ghost] } ]", "scenario.steady-state.probes[0].nodes")]
    [InlineData("duration = 10s", "duration = 10s\n rollbacks = [ undo-everything ]", "scenario.rollbacks")]
    public void A_bad_scenario_is_refused_naming_the_key(string replace, string with, string key)
    {
        var ex = Assert.Throws<SettingsException>(() => ScenarioFile.Parse(Minimal.Replace(replace, with)));
        Assert.Equal(key, ex.Key);
    }

    private const string PortTaken = """
        scenario {
          name = p
          duration = 6s
          nodes = [ { name = seed, role = seed }, { name = web1, role = web } ]
          steady-state { probes = [ { type = nodes-up } ] }
          method = [ { at = 1s, fault = kill, node = web1 }, { at = 1s, fault = hold-port, node = web1 }, { at = 2s, fault = restart, node = web1 } ]
          rollbacks = [release-ports]
          checks = [ { type = node-exits, nodes = [web1], code = 1, says = "actors web: cannot listen on" } ]
        }
        """;

    [Fact]
    public void A_held_port_and_a_node_that_must_exit_are_read_in_file_order()
    {
        var s = ScenarioFile.Parse(PortTaken);
        Assert.Equal(["kill web1", "hold-port web1", "restart web1"], s.Method.Select(m => m.ToString()));
        Assert.Equal(["release-ports"], s.Rollbacks);
        var check = Assert.Single(s.Checks);
        Assert.Equal(("node-exits", 1.0, "actors web: cannot listen on"), (check.Type, check.Limit, check.Says));
        Assert.Equal(["web1"], check.Nodes);
        // The held port is a fault until the end of the method (the rollback releases it).
        Assert.Contains(FaultPlan.Windows(s.Method, s.Duration), w => w.Label == "hold-port web1" && w.To == s.Duration);
    }

    [Theory]
    [InlineData("fault = hold-port, node = web1", "fault = hold-port, node = seed", "scenario.method[1].node")]
    [InlineData("fault = hold-port, node = web1", "fault = hold-port, node = ghost", "scenario.method[1].node")]
    [InlineData("nodes = [web1], code = 1, ", "code = 1, ", "scenario.checks[0].nodes")]
    [InlineData("nodes = [web1], code = 1, ", "nodes = [ghost], code = 1, ", "scenario.checks[0].nodes")]
    [InlineData(", says = \"actors web: cannot listen on\"", "", "scenario.checks[0].says")]
    [InlineData("code = 1", "code = 1.5", "scenario.checks[0].code")]
    [InlineData("code = 1", "code = 256", "scenario.checks[0].code")]
    public void A_bad_hold_port_or_node_exits_is_refused_naming_the_key(string replace, string with, string key)
    {
        Assert.Contains(replace, PortTaken);
        var ex = Assert.Throws<SettingsException>(() => ScenarioFile.Parse(PortTaken.Replace(replace, with)));
        Assert.Equal(key, ex.Key);
    }

    /// <summary>
    /// node-exits holds only with an exit of the code asked for and exactly one log line with the
    /// text per such exit: no exit, another code, no line, or the line twice (a restart loop) fail.
    /// </summary>
    [Fact]
    public void Node_exits_wants_the_exit_code_and_one_log_line_per_exit()
    {
        var check = ScenarioFile.Parse(PortTaken).Checks[0];
        const string line = "actors web: cannot listen on 127.0.0.1:4321: Address already in use";
        (string, string) Exit(int code) => ("web1", Processes.ProcessFaults.ExitText(4242, code));
        IReadOnlyList<string> Log(params string[] lines) => ["[INFO] Listening on 127.0.0.1:4321", .. lines];

        var (passed, detail) = InvariantChecks.NodeExits(check, [Exit(1)], _ => Log(line));
        Assert.True(passed, detail);
        Assert.Contains(line, detail);

        Assert.False(InvariantChecks.NodeExits(check, [], _ => Log(line)).Item1);
        Assert.False(InvariantChecks.NodeExits(check, [("other", Processes.ProcessFaults.ExitText(1, 1))], _ => Log(line)).Item1);
        var (wrongCode, why) = InvariantChecks.NodeExits(check, [Exit(143)], _ => Log(line));
        Assert.False(wrongCode);
        Assert.Contains("exits seen: 143", why);
        Assert.False(InvariantChecks.NodeExits(check, [Exit(1)], _ => Log()).Item1);
        Assert.False(InvariantChecks.NodeExits(check, [Exit(1)], _ => Log(line, line)).Item1);
        Assert.True(InvariantChecks.NodeExits(check, [Exit(137), Exit(1), Exit(1)], _ => Log(line, line)).Item1);
    }

    [Fact]
    public void Text_that_is_not_a_scenario_is_refused()
    {
        Assert.Equal("scenario", Assert.Throws<SettingsException>(() => ScenarioFile.Parse("nodes = []")).Key);
        Assert.StartsWith("scenario", Assert.Throws<SettingsException>(() => ScenarioFile.Parse("scenario { ")).Key);
    }

    [Fact]
    public void The_nemesis_draws_the_same_plan_from_the_same_seed_and_undoes_each_fault()
    {
        var timed = Minimal[Minimal.IndexOf("method = [", StringComparison.Ordinal)..];
        timed = timed[..(timed.IndexOf('\n') + 1)];
        var s = ScenarioFile.Parse(Minimal.Replace(timed, "").Replace("checks =", "nemesis { interval = 2s, heal-after = 1s, faults = [kill, pause, partition], targets = [tracker1] }\n checks ="));
        var a = FaultPlan.Build(s, 42);
        Assert.Equal(a.Select(x => x.ToString()), FaultPlan.Build(s, 42).Select(x => x.ToString()));
        Assert.NotEqual(a.Select(x => x.ToString()), FaultPlan.Build(s, 43).Select(x => x.ToString()));
        var drawn = a.Where(x => x.At.TotalSeconds % 2 == 0 && x.Action is "kill" or "pause" or "partition").ToList();
        Assert.Equal(4, drawn.Count); // at 2, 4, 6, 8 s; 10 s + 1 s would end past the duration
        foreach (var fault in drawn)
        {
            var undo = fault.Action switch { "kill" => "restart", "pause" => "resume", _ => "heal" };
            Assert.Contains(a, x => x.At == fault.At + TimeSpan.FromSeconds(1) && x.Action == undo);
        }
        var windows = FaultPlan.Windows(a, s.Duration);
        Assert.Equal(4, windows.Count);
        Assert.All(windows, w => Assert.Equal(TimeSpan.FromSeconds(1), w.To - w.From));
    }

    [Fact]
    public void A_compact_peer_list_is_read_and_a_failure_reason_is_not_a_peer_list()
    {
        var peers = new byte[] { 127, 0, 0, 1, 0x27, 0x10, 127, 0, 0, 1, 0x27, 0x11 };
        var body = Encoding.ASCII.GetBytes("d8:intervali1800e5:peers12:").Concat(peers).Concat("e"u8.ToArray()).ToArray();
        Assert.Equal([10000, 10001], AnnounceLoad.ParsePeers(body)!.Order());
        Assert.Null(AnnounceLoad.ParsePeers("d14:failure reason4:nopee"u8));
        Assert.Null(AnnounceLoad.ParsePeers("d5:peers99:abce"u8));
    }

    [Fact]
    public void A_calls_media_gap_is_its_lost_frames_times_20_ms()
    {
        // 950 frames received with loss 0.05: 1000 expected, 50 lost = 1 s.
        var report = new LoadProcesses.CallReport("a", "caller", "completed", "relay", 1, 0.05, 950, 20, 0);
        Assert.Equal(1000, report.GapMs, 3);
        Assert.Equal(0, (report with { Loss = 0 }).GapMs);
    }
}
