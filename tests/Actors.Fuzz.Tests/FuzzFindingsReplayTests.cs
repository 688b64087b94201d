using Actors.Fuzz;
using Xunit;

namespace Actors.Fuzz.Tests;

/// <summary>
/// Every input afl-fuzz found (a crash, a hang, an allocation out of proportion) and a few corpus
/// seeds are kept under tests/Fuzz/findings/TARGET/. Each must now decode, or be refused with the
/// codec's documented exception, within a time bound: the same check the fuzzing harness makes.
/// </summary>
public sealed class FuzzFindingsReplayTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static string FindingsDirectory => Path.Combine(AppContext.BaseDirectory, "findings");

    public static TheoryData<string, string> KeptInputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var folder in Directory.GetDirectories(FindingsDirectory).Order(StringComparer.Ordinal))
            foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
                data.Add(Path.GetFileName(folder), Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(KeptInputs))]
    public async Task Kept_input_decodes_or_is_refused_with_the_documented_exception(string target, string file)
    {
        Assert.True(FuzzTargets.Exists(target), $"tests/Fuzz/findings/{target} names no fuzzing target");
        var input = File.ReadAllBytes(Path.Combine(FindingsDirectory, target, file));

        var run = Task.Factory.StartNew(() => FuzzTargets.Run(target, input), TaskCreationOptions.LongRunning);

        var finished = await Task.WhenAny(run, Task.Delay(Bound));
        Assert.True(finished == run, $"{target} took more than {Bound.TotalSeconds} s on {file} ({input.Length} bytes)");
        await run; // a finding or an undocumented exception fails here, with its message
    }

    [Fact]
    public void Every_fuzzing_target_has_kept_inputs()
    {
        var missing = FuzzTargets.Names
            .Where(name => !Directory.Exists(Path.Combine(FindingsDirectory, name)) || Directory.GetFiles(Path.Combine(FindingsDirectory, name)).Length == 0)
            .ToList();
        Assert.True(missing.Count == 0, "no kept inputs for: " + string.Join(", ", missing));
    }
}
