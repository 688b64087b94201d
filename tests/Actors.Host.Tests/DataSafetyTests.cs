using System.Diagnostics;
using Actors.Torrent.Metainfo;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// Nothing we did not write is destroyed, and storage that fails ends the peer with one line and
/// exit 1 (src/Actors.Torrent/Peer/README.md, "Existing files and failing storage"). Real
/// <c>actors peer</c> processes; the read-only folder and the full disk are tmpfs mounts the test
/// makes (root only; skipped, with the reason, elsewhere).
/// </summary>
public sealed class DataSafetyTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-safety-").FullName;
    private readonly List<string> _mounts = new();

    public void Dispose()
    {
        foreach (var mount in _mounts) Tmpfs.Unmount(mount);
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_longer_file_in_the_download_folder_is_refused_by_name_and_kept()
    {
        var (torrent, content) = MakeTorrent(100_000);
        var existing = Path.Combine(_dir, "out", "data.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(existing)!);
        var mine = content.Concat(new byte[5000]).ToArray();
        File.WriteAllBytes(existing, mine);
        var run = await FailureRun.Of(Deadline, "peer", "get", torrent, "--out", Path.Combine(_dir, "out"));
        AssertOneLine(run, existing);
        Assert.Equal(mine, File.ReadAllBytes(existing));
    }

    [Fact]
    public async Task An_unrelated_file_of_the_same_name_is_refused_by_name_and_kept()
    {
        var (torrent, content) = MakeTorrent(100_000);
        var existing = Path.Combine(_dir, "out", "data.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(existing)!);
        var mine = System.Text.Encoding.UTF8.GetBytes("my notes, not a download\n");
        File.WriteAllBytes(existing, mine);
        var run = await FailureRun.Of(Deadline, "peer", "get", torrent, "--out", Path.Combine(_dir, "out"));
        AssertOneLine(run, existing);
        Assert.Equal(mine, File.ReadAllBytes(existing));
    }

    [TmpfsFact]
    public async Task A_read_only_download_folder_exits_1_naming_it()
    {
        var (torrent, _) = MakeTorrent(100_000);
        var mount = Mount("ro,size=1m");
        var run = await FailureRun.Of(Deadline, "peer", "get", torrent, "--out", mount);
        AssertOneLine(run, Path.Combine(mount, "data.bin"));
    }

    [TmpfsFact]
    public async Task A_full_disk_exits_1_naming_the_file()
    {
        var (torrent, _) = MakeTorrent(1 << 20);
        var mount = Mount("size=256k");
        var run = await FailureRun.Of(Deadline, "peer", "get", torrent, "--out", mount);
        AssertOneLine(run, Path.Combine(mount, "data.bin"));
    }

    [Fact]
    public async Task A_file_deleted_while_seeding_exits_1_naming_it()
    {
        var (torrent, _) = MakeTorrent(100_000);
        var file = Path.Combine(_dir, "content", "data.bin");
        // Once the seeder listens, its file is open and verified: delete it then.
        var run = await FailureRun.Of(Deadline, line => { if (line.Contains("listening on port")) File.Delete(file); },
            "peer", "seed", torrent, "--data", Path.Combine(_dir, "content"));
        AssertOneLine(run, file);
        Assert.Contains("vanished", run.PolicyLines("peer")[0]);
    }

    private static void AssertOneLine(FailureRun run, string naming)
    {
        Assert.True(run.ExitCode == 1, $"expected exit 1; {run}");
        var lines = run.PolicyLines("peer");
        Assert.True(lines.Length == 1, $"expected exactly one 'actors peer:' line on stderr; {run}");
        Assert.Contains(naming, lines[0]);
        Assert.False(run.HasStackTrace, $"stack trace in the output; {run}");
    }

    private string Mount(string options)
    {
        var path = Directory.CreateDirectory(Path.Combine(_dir, $"mnt{_mounts.Count}")).FullName;
        Tmpfs.Mount(path, options);
        _mounts.Add(path);
        return path;
    }

    // A single-file torrent of `length` bytes whose content sits in _dir/content (its tracker is never reached).
    private (string Torrent, byte[] Content) MakeTorrent(int length)
    {
        var content = Directory.CreateDirectory(Path.Combine(_dir, "content")).FullName;
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        var file = Path.Combine(content, "data.bin");
        File.WriteAllBytes(file, bytes);
        var torrent = Path.Combine(_dir, "data.torrent");
        File.WriteAllBytes(torrent, TorrentCreator.Create(file, new TorrentCreateOptions { Trackers = ["http://127.0.0.1:9/announce"], PieceLength = 16384 }));
        return (torrent, bytes);
    }
}

/// <summary>A test that mounts a tmpfs: needs root (and the right to mount); skipped, saying why, otherwise.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        // Under CI (root) it runs anyway: a tmpfs that cannot be mounted there fails, never skips.
        Skip = Tools.SkipUnlessCi(Tmpfs.Unavailable is { } reason ? $"TMPFS TEST SKIPPED: {reason}" : null);
    }
}

public static class Tmpfs
{
    private static readonly Lazy<string?> Probe = new(() =>
    {
        if (Environment.UserName != "root") return "needs root to mount a tmpfs";
        var path = Directory.CreateTempSubdirectory("actors-tmpfs-probe-").FullName;
        try
        {
            var (code, output) = Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", path);
            if (code != 0) return $"cannot mount a tmpfs: {output.Trim()}";
            Unmount(path);
            return null;
        }
        finally { Directory.Delete(path); }
    });

    public static string? Unavailable => Probe.Value;

    public static void Mount(string path, string options)
    {
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", options, "tmpfs", path);
        if (code != 0) throw new InvalidOperationException($"mount {path} failed: {output}");
    }

    public static void Unmount(string path)
    {
        if (Run("umount", path).Code != 0) Run("umount", "-l", path);
    }

    private static (int Code, string Output) Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(10_000)) { process.Kill(); return (-1, "timed out"); }
        return (process.ExitCode, output.Result + error.Result);
    }
}
