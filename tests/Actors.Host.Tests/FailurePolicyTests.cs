using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Metainfo;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// One failure policy for every role (src/Actors.Host/Hosting/RoleGuardian.cs): a role whose port
/// is taken ends quickly with exit code 1 and exactly one line on stderr naming the port, and no
/// stack trace. Each test occupies the port first, then starts the real <c>actors</c> process.
/// </summary>
public sealed class FailurePolicyTests : IDisposable
{
    // A role exits in 2-6 s here (1-3 s of it is starting .NET); the bounds are generous for a
    // loaded machine (load 50 on 2 cores has taken 21 s). A role that restarts forever hits the
    // deadline; one that waits for an Ask to time out prints a line that does not name the port.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("actors-policy-").FullName;
    private readonly TcpListener _occupied;
    private readonly int _port;

    public FailurePolicyTests()
    {
        // Taken on every interface, as the roles listen on 0.0.0.0 by default.
        _occupied = new TcpListener(IPAddress.Any, 0);
        _occupied.Start();
        _port = ((IPEndPoint)_occupied.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _occupied.Stop();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public Task Web_whose_port_is_taken_exits_1_with_one_line() =>
        AssertFailsOnTakenPort("web", "web", "--root", _dir, "--port", $"{_port}");

    [Fact]
    public Task Tracker_whose_port_is_taken_exits_1_with_one_line() =>
        AssertFailsOnTakenPort("tracker", "tracker", "--port", $"{_port}");

    [Fact]
    public Task Rendezvous_whose_port_is_taken_exits_1_with_one_line()
    {
        var users = Path.Combine(_dir, "users.txt");
        File.WriteAllText(users, "alice:secret\n");
        return AssertFailsOnTakenPort("rendezvous", "rendezvous", "--port", $"{_port}", "--users", users);
    }

    [Fact]
    public Task Relay_whose_port_is_taken_exits_1_with_one_line() =>
        AssertFailsOnTakenPort("relay", "relay", "--port", $"{_port}", "--public-host", "127.0.0.1");

    [Fact]
    public async Task Seed_whose_cluster_port_is_taken_exits_1_with_one_line()
    {
        // The cluster port binds on 127.0.0.1 (actors.cluster.host).
        using var loopback = new TcpListener(IPAddress.Loopback, 0);
        loopback.Start();
        var port = ((IPEndPoint)loopback.LocalEndpoint).Port;
        var run = await FailureRun.Of(Deadline, "seed", "--cluster-port", $"{port}");
        AssertOneLineExit1(run, "seed", port);
    }

    [Fact]
    public Task Caller_whose_listen_port_is_taken_exits_1_with_one_line() =>
        // The rendezvous is never reached: the listener binds first.
        AssertFailsOnTakenPort("caller", "caller", "--id", "alice", "--secret", "secret",
            "--rendezvous", "127.0.0.1:9", "--listen", $"{_port}");

    [Fact]
    public Task Peer_whose_listen_port_is_taken_exits_1_with_one_line() =>
        AssertFailsOnTakenPort("peer", "peer", "get", MakeTorrent(), "--out", Path.Combine(_dir, "out"), "--port", $"{_port}");

    [Fact]
    public Task Seeding_peer_whose_listen_port_is_taken_exits_1_with_one_line() =>
        AssertFailsOnTakenPort("peer", "peer", "seed", MakeTorrent(), "--data", Path.Combine(_dir, "content"), "--port", $"{_port}");

    private async Task AssertFailsOnTakenPort(string role, params string[] args)
    {
        var run = await FailureRun.Of(Deadline, args);
        AssertOneLineExit1(run, role, _port);
    }

    private static void AssertOneLineExit1(FailureRun run, string role, int port)
    {
        Assert.True(run.ExitCode == 1, $"expected exit 1; {run}");
        Assert.True(run.Elapsed < Quickly, $"took too long; {run}");
        var lines = run.PolicyLines(role);
        Assert.True(lines.Length == 1, $"expected exactly one 'actors {role}:' line on stderr; {run}");
        Assert.Contains($":{port}", lines[0]);
        Assert.Contains("in use", lines[0]);
        Assert.False(run.HasStackTrace, $"stack trace in the output; {run}");
        // Akka.IO's own ERROR for the bind would say it a second time (the node's log drops it).
        Assert.DoesNotContain(run.Stdout.Concat(run.Stderr), l => l.Contains("Bind failed", StringComparison.Ordinal));
    }

    // A small single-file torrent whose content sits in _dir/content (its tracker is never reached).
    private string MakeTorrent()
    {
        var content = Directory.CreateDirectory(Path.Combine(_dir, "content")).FullName;
        var file = Path.Combine(content, "data.bin");
        File.WriteAllBytes(file, Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray());
        var torrent = Path.Combine(_dir, "data.torrent");
        File.WriteAllBytes(torrent, TorrentCreator.Create(file, new TorrentCreateOptions { Trackers = ["http://127.0.0.1:9/announce"], PieceLength = 16384 }));
        return torrent;
    }
}
