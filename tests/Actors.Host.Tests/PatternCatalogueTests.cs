using System.Text.RegularExpressions;
using Actors.Lab.Experiments;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// docs/PATTERNS.md promises, per pattern, the file and type that show it, the test that exercises
/// it and the Lab scenario that makes it visible. These tests hold it to that: a renamed type, a
/// moved file, a deleted test or scenario fails here instead of leaving a dead reference; and
/// where the catalogue says what a scenario does (`name` (uses `kill`, `restart`)), the scenario
/// file, read with the Lab's own <see cref="ScenarioFile"/>, must do it.
/// </summary>
public sealed partial class PatternCatalogueTests
{
    private static readonly string Root = RepositoryRoot();
    private static readonly string Catalogue = File.ReadAllText(Path.Combine(Root, "docs", "PATTERNS.md"));

    // `src/A/B.cs` (`Type` or `Type.Member`)
    [GeneratedRegex(@"`(src/[^`]+\.cs)`\s*\(`([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?`")]
    private static partial Regex CodeReference();

    // `Test_name` (tests/A/B.cs)
    [GeneratedRegex(@"`([A-Z][A-Za-z0-9_]+)`\s*\((tests/[^)\s]+\.cs)\)")]
    private static partial Regex TestReference();

    // **Lab.** `scenario`
    [GeneratedRegex(@"\*\*Lab\.\*\*\s*`([a-z0-9-]+)`")]
    private static partial Regex ScenarioReference();

    // The Lab paragraph: from **Lab.** to the next blank line.
    [GeneratedRegex(@"\*\*Lab\.\*\*(?<text>.+?)(?:\n\s*\n|$)", RegexOptions.Singleline)]
    private static partial Regex LabParagraph();

    // `scenario` (uses `a`, `b` and `c`): what the catalogue says the scenario file does.
    [GeneratedRegex(@"`(?<scenario>[a-z0-9-]+)`\s*\(uses\s+(?<uses>`[^`]+`(?:\s*(?:,|and)\s*`[^`]+`)*)\)")]
    private static partial Regex ScenarioUses();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex Quoted();

    // ... --project tests/Actors.Benchmarks -- MODE
    [GeneratedRegex(@"tests/Actors\.Benchmarks -- ([a-z-]+)")]
    private static partial Regex BenchmarkMode();

    [GeneratedRegex(@"^## (\d+)\. ", RegexOptions.Multiline)]
    private static partial Regex PatternHeading();

    public static TheoryData<string> Patterns()
    {
        var data = new TheoryData<string>();
        foreach (Match heading in PatternHeading().Matches(Catalogue)) data.Add(heading.Groups[1].Value);
        return data;
    }

    [Fact]
    public void The_catalogue_has_every_pattern_the_issue_names()
    {
        string[] required = ["One actor per connection", "Supervision", "`Become` state machines", "Stash until ready",
            "Acked writes and pull-mode reads", "Correlation instead of Ask", "Group commit", "CRDT directories",
            "Handing a connection over", "The event stream", "CoordinatedShutdown"];
        foreach (var title in required)
            Assert.Matches(new Regex($@"^## \d+\. {Regex.Escape(title)}", RegexOptions.Multiline), Catalogue);
        foreach (var notUsed in new[] { "Akka.Streams", "Cluster Sharding", "Akka.Persistence", "Routers" })
            Assert.Contains($"**{notUsed}", Catalogue);
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Each_pattern_names_code_that_exists_a_test_that_exists_and_a_lab_scenario(string number)
    {
        var section = Section(number);

        var code = CodeReference().Matches(section);
        Assert.True(code.Count > 0, $"pattern {number} names no `src/...cs` (`Type`)");
        foreach (Match reference in code)
        {
            var path = Path.Combine(Root, reference.Groups[1].Value);
            Assert.True(File.Exists(path), $"pattern {number}: {reference.Groups[1].Value} does not exist");
            var source = File.ReadAllText(path);
            var type = reference.Groups[2].Value;
            Assert.True(Regex.IsMatch(source, $@"\b(class|record|struct|interface)\s+{type}\b"),
                $"pattern {number}: {reference.Groups[1].Value} declares no type {type}");
            if (reference.Groups[3].Success)
                Assert.True(Regex.IsMatch(source, $@"\b{reference.Groups[3].Value}\b"),
                    $"pattern {number}: {type}.{reference.Groups[3].Value} not found in {reference.Groups[1].Value}");
        }

        var tests = TestReference().Matches(section);
        Assert.True(tests.Count > 0, $"pattern {number} names no test");
        foreach (Match test in tests)
        {
            var path = Path.Combine(Root, test.Groups[2].Value);
            Assert.True(File.Exists(path), $"pattern {number}: {test.Groups[2].Value} does not exist");
            Assert.True(Regex.IsMatch(File.ReadAllText(path), $@"\b(void|Task)\s+{test.Groups[1].Value}\s*\("),
                $"pattern {number}: {test.Groups[2].Value} has no test {test.Groups[1].Value}");
        }

        foreach (Match scenario in ScenarioReference().Matches(section))
        {
            var file = Path.Combine(Root, "config", "lab", scenario.Groups[1].Value + ".conf");
            Assert.True(File.Exists(file), $"pattern {number}: Lab scenario config/lab/{scenario.Groups[1].Value}.conf does not exist");
        }
    }

    /// <summary>
    /// Every pattern has a Lab paragraph that either names scenarios and what in each shows the
    /// pattern (`name` (uses `fault`, `probe`, ...)), every one of which the scenario file must
    /// contain, or begins with "none" and says why.
    /// </summary>
    [Theory]
    [MemberData(nameof(Patterns))]
    public void Each_lab_scenario_does_what_the_catalogue_says_it_uses(string number)
    {
        var lab = LabParagraph().Match(Section(number));
        Assert.True(lab.Success, $"pattern {number} has no **Lab.** paragraph");
        var text = lab.Groups["text"].Value;
        var claims = ScenarioUses().Matches(text);
        if (claims.Count == 0)
        {
            Assert.True(text.TrimStart().StartsWith("none", StringComparison.Ordinal) && text.Length > 80,
                $"pattern {number}: the Lab paragraph names no `scenario` (uses `...`) and does not say \"none\" and why: {text.Trim()}");
            return;
        }
        foreach (Match claim in claims)
        {
            var name = claim.Groups["scenario"].Value;
            var file = Path.Combine(Root, "config", "lab", name + ".conf");
            Assert.True(File.Exists(file), $"pattern {number}: Lab scenario config/lab/{name}.conf does not exist");
            var uses = Uses(ScenarioFile.Load(file));
            foreach (Match used in Quoted().Matches(claim.Groups["uses"].Value))
                Assert.True(uses.Contains(used.Groups[1].Value),
                    $"pattern {number}: the catalogue says {name} uses `{used.Groups[1].Value}`, but config/lab/{name}.conf has only: {string.Join(", ", uses.Order())}");
        }
    }

    /// <summary>The check above can fail: a scenario's vocabulary holds what its file does and nothing else.</summary>
    [Fact]
    public void A_scenario_uses_only_what_its_file_says()
    {
        var scenario = ScenarioFile.Parse("""
            scenario {
              name = t
              duration = 10s
              nodes = [ { name = seed, role = seed }, { name = tracker1, role = tracker }, { name = tracker2, role = tracker } ]
              load { announces { rate = 5 } }
              steady-state { probes = [ { type = figure, figure = actors.process.cpu.time, nodes = [tracker1], min = 0.1 } ] }
              method = [ { at = 1s, fault = kill, node = tracker2 }, { at = 2s, fault = toxic, link = l, type = slicer, average_size = 10 } ]
              rollbacks = [heal]
              checks = [ { type = announces-kept } ]
            }
            """);
        var uses = Uses(scenario);
        foreach (var used in new[] { "kill", "toxic", "slicer", "figure", "actors.process.cpu.time", "announces", "announces-kept", "heal", "tracker" })
            Assert.Contains(used, uses);
        foreach (var unused in new[] { "terminate", "restart", "bandwidth", "nodes-up", "swarm", "calls", "replicas-converge", "relay" })
            Assert.DoesNotContain(unused, uses);
    }

    /// <summary>A figure the catalogue says a benchmark mode measured names a mode that exists.</summary>
    [Fact]
    public void Benchmark_modes_the_catalogue_cites_exist()
    {
        var options = File.ReadAllText(Path.Combine(Root, "tests", "Actors.Benchmarks", "BenchOptions.cs"));
        var modes = BenchmarkMode().Matches(Catalogue);
        Assert.True(modes.Count > 0, "the catalogue cites no benchmark mode (`... --project tests/Actors.Benchmarks -- MODE`)");
        foreach (Match mode in modes)
            Assert.True(options.Contains($"\"{mode.Groups[1].Value}\"", StringComparison.Ordinal), $"no benchmark mode {mode.Groups[1].Value} in BenchOptions.cs");
    }

    /// <summary>
    /// What a scenario file does, in the words the catalogue uses: its fault actions (and the
    /// nemesis's), toxic types, probe types and figures, check types, rollbacks, kinds of load
    /// (swarm, calls, announces), node roles and options, and NAT kinds.
    /// </summary>
    private static HashSet<string> Uses(Scenario scenario)
    {
        var uses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in scenario.Method)
        {
            uses.Add(step.Action);
            if (step.Attributes.TryGetValue("type", out var toxic)) uses.Add(toxic);
        }
        uses.UnionWith(scenario.Nemesis?.Faults ?? []);
        foreach (var probe in scenario.SteadyState.Probes)
        {
            uses.Add(probe.Type);
            if (probe.Figure.Length > 0) uses.Add(probe.Figure);
        }
        uses.UnionWith(scenario.Checks.Select(c => c.Type));
        uses.UnionWith(scenario.Rollbacks);
        if (scenario.Load.Swarm is not null) uses.Add("swarm");
        if (scenario.Load.Calls is not null) uses.Add("calls");
        if (scenario.Load.Announces is not null) uses.Add("announces");
        foreach (var node in scenario.Nodes)
        {
            uses.Add(node.Role);
            uses.UnionWith(node.Options.Where(o => o.StartsWith("--", StringComparison.Ordinal)));
        }
        uses.UnionWith(scenario.Nat?.Kinds.Select(k => k.ToString().ToLowerInvariant()) ?? []);
        return uses;
    }

    private static string Section(string number)
    {
        var start = Catalogue.IndexOf($"\n## {number}. ", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no section {number}");
        var end = Catalogue.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var rule = Catalogue.IndexOf("\n---", start + 1, StringComparison.Ordinal);
        if (end < 0 || (rule >= 0 && rule < end)) end = rule;
        return end < 0 ? Catalogue[start..] : Catalogue[start..end];
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Actors.sln not found above the test binaries");
    }
}
