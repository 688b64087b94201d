using System.Globalization;
using System.Reflection;
using Actors.Net.Configuration;

namespace Actors.Lab.Experiments;

/// <summary>
/// <c>actors lab run FILE [--repeat N] [--seed S] [--out DIR]</c>: runs a scenario N times (seeds
/// S, S+1, …), one bundle each under DIR/&lt;scenario&gt;/&lt;timestamp&gt;/; exit 0 when every check of
/// every run held, 1 otherwise (the failed checks named), 2 for a bad scenario file.
/// </summary>
public static class ExperimentCli
{
    public const string DefaultOut = "lab-runs";

    public static async Task<int> Run(string file, int repeat, int? seed, string? outDir, TextWriter output, CancellationToken cancel)
    {
        Scenario scenario;
        string text;
        try
        {
            scenario = ScenarioFile.Load(file);
            text = await File.ReadAllTextAsync(file, cancel);
        }
        catch (SettingsException ex)
        {
            Console.Error.WriteLine($"actors lab run: {file}: {ex.Message}");
            return 2;
        }
        var actors = ActorsCommand();
        var failures = new List<string>();
        for (var i = 0; i < repeat; i++)
        {
            var runSeed = (seed ?? scenario.Seed) + i;
            var bundle = BundleDirectory(outDir ?? DefaultOut, scenario.Name);
            var runner = new ExperimentRunner(scenario, text, actors, output);
            if (!await runner.Run(runSeed, bundle, actors, cancel))
            {
                var report = Path.Combine(bundle, "report.json");
                var failed = File.Exists(report)
                    ? string.Join("; ", System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(report, cancel)).RootElement.GetProperty("failed").EnumerateArray().Select(f => f.GetString()))
                    : "unknown";
                failures.Add($"seed {runSeed}: {failed}");
            }
        }
        if (failures.Count == 0)
        {
            output.WriteLine($"{scenario.Name}: every check held in {repeat} run(s)");
            return 0;
        }
        foreach (var f in failures) Console.Error.WriteLine($"actors lab run: {scenario.Name} FAILED ({f})");
        return 1;
    }

    /// <summary>DIR/scenario/yyyyMMdd-HHmmss (a suffix when two runs start in the same second).</summary>
    public static string BundleDirectory(string root, string scenario)
    {
        var stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var dir = Path.GetFullPath(Path.Combine(root, scenario, stamp));
        for (var n = 2; Directory.Exists(dir); n++) dir = Path.GetFullPath(Path.Combine(root, scenario, $"{stamp}-{n}"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>How to start the actors binary that runs us: "dotnet actors.dll" or the apphost.</summary>
    public static IReadOnlyList<string> ActorsCommand()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        var entry = Assembly.GetEntryAssembly()?.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && !string.IsNullOrEmpty(entry) ? [process, entry] : [process];
    }
}
