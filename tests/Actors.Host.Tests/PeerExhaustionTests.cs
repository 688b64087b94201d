using System.Diagnostics;
using Actors.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Host.Tests;

/// <summary>
/// Graceful exhaustion (issue 16): <c>actors peer get --count N</c> under a descriptor limit far too
/// small for N peers, started through <c>prlimit</c>. The process must neither crash nor flood its
/// log, must keep serving the peers it has room for, and must end cleanly when told to.
/// </summary>
public sealed class PeerExhaustionTests(ITestOutputHelper output) : IDisposable
{
    private const string Prlimit = "prlimit";
    private readonly PeerLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [FactRequiringTools(Prlimit)]
    public async Task Forty_peers_under_256_descriptors_keep_running_log_counted_warnings_and_stop_cleanly()
    {
        await _lab.Start(64 * 1024, pieceLength: 16 * 1024);
        await _lab.OurSeeder("our-seed");
        await _lab.AwaitSeeders(1);

        // 40 peers need 40 listeners and their files (~120 descriptors) next to the runtime's ~100:
        // 256 leaves the connection budget almost nothing, and binds and dials run out for real.
        var watch = Stopwatch.StartNew();
        using var get = new ProcessRunner(Prlimit, ["--nofile=256:256", "--", "dotnet", ActorsProcess.ActorsDll,
            "peer", "get", _lab.TorrentUrl, "--out", _lab.Dir("many"), "--host", "127.0.0.1", "--count", "40"],
            name: "actors peer get --count 40 (256 descriptors)");
        // Starved for 25 s (or done sooner): long enough for the once-per-10-s warnings to repeat;
        // up to 60 s while no peer has completed yet (a loaded machine is slow to get the first one).
        var finished = false;
        while ((watch.Elapsed < TimeSpan.FromSeconds(25) || (Complete() == 0 && watch.Elapsed < TimeSpan.FromSeconds(60)))
               && !(finished = get.HasExited))
            await Task.Delay(250);
        var exit = finished ? get.ExitCode : -1;
        if (!finished)
        {
            // Still running under exhaustion, as it should: it must stop cleanly when asked.
            get.Signal("TERM");
            exit = await get.WaitForExitAsync(TimeSpan.FromSeconds(20));
        }
        var elapsed = watch.Elapsed.TotalSeconds;
        var log = get.StderrLines.ToArray();
        var complete = Complete();
        output.WriteLine($"{(finished ? "exited by itself" : "stopped by SIGTERM")} with {exit} after {elapsed:F1} s; {complete}/40 complete; {log.Length} stderr lines");
        foreach (var line in log.Take(60)) output.WriteLine(line);

        // No crash: an exit code we chose (0 done, 1 stopped before done), no unhandled exception.
        Assert.True(exit is 0 or 1, $"exit code {exit}");
        Assert.DoesNotContain(log, l => l.Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase)
            || l.Contains("OutOfMemory", StringComparison.Ordinal));
        if (finished) Assert.Equal(0, exit);
        // The peers it had room for downloaded (all of them when it finished by itself).
        Assert.True(complete >= (finished ? 40 : 1), $"{complete} of 40 peers complete");
        // Repeated warnings are counted, once per 10 s each, never once per event.
        var perKind = Math.Ceiling(elapsed / 10) + 1;
        var refusals = log.Count(l => l.Contains("Connection budget spent", StringComparison.Ordinal));
        var exhaustion = log.Count(l => l.Contains("such failures since the last warning", StringComparison.Ordinal));
        Assert.True(refusals <= perKind, $"{refusals} refusal warnings in {elapsed:F0} s");
        Assert.True(exhaustion <= 2 * perKind, $"{exhaustion} exhaustion warnings in {elapsed:F0} s (dials and binds)");
        Assert.All(log.Where(l => l.Contains("Connection budget spent", StringComparison.Ordinal)),
            l => Assert.Contains("refused since the last warning", l));
        var warnings = log.Count(l => l.Contains(" WARN ", StringComparison.Ordinal) || l.Contains(" ERROR ", StringComparison.Ordinal));
        Assert.True(warnings < 40, $"{warnings} WARN/ERROR lines in {elapsed:F0} s: the log is flooded");
    }

    /// <summary>Peers whose file is complete and byte-identical to the seed's.</summary>
    private int Complete() => Enumerable.Range(0, 40).Count(i =>
    {
        var file = Path.Combine(_lab.Dir("many"), $"peer-{i}", PeerLab.FileName);
        return File.Exists(file) && new FileInfo(file).Length == _lab.Content.Length
            && File.ReadAllBytes(file).AsSpan().SequenceEqual(_lab.Content);
    });
}
