using Xunit;

namespace Actors.TestSupport;

/// <summary>
/// The programs tests run that we did not write (aria2c, opentracker, transmission, curl, chromium,
/// ...). A test whose program is missing never passes silently: it is skipped with what to install,
/// and in CI (<c>CI=true</c>, where .ci/run installs everything) it runs and fails instead.
/// </summary>
public static class Tools
{
    private static readonly Dictionary<string, string> Packages = new(StringComparer.Ordinal)
    {
        ["aria2c"] = "aria2",
        ["transmission-cli"] = "transmission-cli",
        ["transmission-create"] = "transmission-cli",
        ["transmission-show"] = "transmission-cli",
        ["ip"] = "iproute2",
    };

    /// <summary>True under CI (<c>CI=true</c>): nothing may be skipped there.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsInstalled(string tool) =>
        tool.Contains('/')
            ? File.Exists(tool)
            : (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Any(dir => File.Exists(Path.Combine(dir, tool)));

    public static IReadOnlyList<string> Missing(params string[] tools) => tools.Where(t => !IsInstalled(t)).ToArray();

    /// <summary>The apt package that provides <paramref name="tool"/>.</summary>
    public static string Package(string tool) => Packages.GetValueOrDefault(tool, tool);

    /// <summary>Throws, naming the package to install, when <paramref name="tool"/> is not installed.</summary>
    public static void Require(string tool)
    {
        if (!IsInstalled(tool))
            throw new InvalidOperationException($"{tool} is not installed (apt-get install -y {Package(tool)}; .ci/run installs it)");
    }

    /// <summary>
    /// The Skip text for a test that cannot run here because of <paramref name="reason"/>, or null
    /// (run it) when there is no reason or under CI, where the test then fails on what is missing.
    /// </summary>
    public static string? SkipUnlessCi(string? reason)
    {
        if (reason is null) return null;
        if (InCi)
        {
            Console.Error.WriteLine($"*** CI=true: not skipping although {reason}; the test will fail ***");
            return null;
        }
        Console.Error.WriteLine($"*** SKIPPED: {reason} ***");
        return $"SKIPPED: {reason} (CI=true fails instead)";
    }

    /// <summary>Why tests needing <paramref name="tools"/> cannot run here, or null.</summary>
    public static string? WhyMissing(params string[] tools)
    {
        var missing = Missing(tools);
        return missing.Count == 0
            ? null
            : $"not installed: {string.Join(", ", missing)} (apt-get install -y {string.Join(' ', missing.Select(Package).Distinct())})";
    }
}

/// <summary>
/// A fact that needs programs we did not write: skipped visibly, naming what to install, when one
/// is missing; under CI it runs anyway and fails, so a missing install step never passes green.
/// </summary>
public sealed class FactRequiringToolsAttribute : FactAttribute
{
    public FactRequiringToolsAttribute(params string[] tools) => Skip = Tools.SkipUnlessCi(Tools.WhyMissing(tools));
}
