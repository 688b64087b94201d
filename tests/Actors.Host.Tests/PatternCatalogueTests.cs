using System.Text.RegularExpressions;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// docs/PATTERNS.md promises, per pattern, the file and type that show it, the test that exercises
/// it and the Lab scenario that makes it visible. These tests hold it to that: a renamed type, a
/// moved file, a deleted test or scenario fails here instead of leaving a dead reference.
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
