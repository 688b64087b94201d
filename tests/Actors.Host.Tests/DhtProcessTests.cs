using System.Net;
using System.Net.Sockets;
using Actors.Torrent.Dht;
using Xunit;

namespace Actors.Host.Tests;

/// <summary><c>actors dht</c> as a process: nodes printed, answering on UDP, clean stop, one way to fail.</summary>
public sealed class DhtProcessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    [Fact]
    public async Task Dht_prints_each_node_answers_on_udp_and_stops_on_SIGTERM_with_its_state_saved()
    {
        using var dir = new TempDirectory();
        using var client = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        client.Dispose(); // a free UDP port for the first node
        using var dht = new ActorsProcess("dht", "--count", "10", "--port", port.ToString(), "--host", "127.0.0.1", "--state-dir", dir.Path);
        await dht.WaitForLine(l => dht.StdoutLines.Count >= 10, Wait);
        var lines = dht.StdoutLines.Take(10).Select(l => l.Split(' ')).ToList();
        Assert.All(lines, l => Assert.Equal(2, l.Length));
        Assert.Equal(port.ToString(), lines[0][1]);
        Assert.Equal(10, lines.Select(l => l[1]).Distinct().Count());
        var firstId = NodeId.Parse(lines[0][0]);

        // A foreign node asks the first one: it knows the other nine after they joined.
        using var asker = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var deadline = DateTime.UtcNow + Wait;
        KrpcResponse? answer = null;
        while (DateTime.UtcNow < deadline)
        {
            await asker.SendAsync(KrpcCodec.Encode(new FindNodeQuery([1, 1], NodeId.Random(), NodeId.Random())), new IPEndPoint(IPAddress.Loopback, port));
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            answer = await ResponseTo(asker, cancel.Token);
            if (answer.Nodes.Count >= 8) break;
            await Task.Delay(500);
        }
        Assert.Equal(firstId, answer!.Sender);
        Assert.True(answer.Nodes.Count >= 8, $"{answer.Nodes.Count} nodes");

        dht.Signal("TERM");
        Assert.Equal(0, await dht.WaitForExit(Wait));
        var saved = DhtStateFile.Load(Path.Combine(dir.Path, "node-0.state"));
        Assert.Equal(firstId, saved!.Value.Id);
    }

    /// <summary>
    /// The next response on <paramref name="socket"/>, skipping queries: the node may add the asker
    /// to its table and query it (find_node, ping) before or after it answers, as BEP 5 allows.
    /// Bounded by <paramref name="cancel"/>.
    /// </summary>
    private static async Task<KrpcResponse> ResponseTo(UdpClient socket, CancellationToken cancel)
    {
        while (true)
            if (KrpcCodec.Decode((await socket.ReceiveAsync(cancel)).Buffer) is KrpcResponse response)
                return response;
    }

    [Fact]
    public async Task Dht_on_a_taken_port_exits_1_naming_the_port()
    {
        using var taken = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)taken.Client.LocalEndPoint!).Port;
        using var dht = new ActorsProcess("dht", "--port", port.ToString(), "--host", "127.0.0.1");
        Assert.Equal(1, await dht.WaitForExit(Wait));
        Assert.Contains(dht.StderrLines, l => l.StartsWith("actors dht:") && l.Contains(port.ToString()));
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--bootstrap", "nohostport")]
    [InlineData("--port", "70000")]
    public async Task Dht_with_a_bad_option_exits_2(string option, string value)
    {
        using var dht = new ActorsProcess("dht", option, value);
        Assert.Equal(2, await dht.WaitForExit(Wait));
        Assert.Contains(dht.StderrLines, l => l.Contains(option));
    }

    [Fact]
    public async Task A_trackerless_torrent_downloads_between_two_peers_that_find_each_other_through_the_DHT()
    {
        using var dir = new TempDirectory();
        var seedDir = Directory.CreateDirectory(Path.Combine(dir.Path, "seed")).FullName;
        var outDir = Path.Combine(dir.Path, "out");
        var content = new byte[1_500_000];
        new Random(7).NextBytes(content);
        File.WriteAllBytes(Path.Combine(seedDir, "file.bin"), content);
        var torrentFile = Path.Combine(dir.Path, "t.torrent");
        using (var create = new ActorsProcess("torrent", "create", Path.Combine(seedDir, "file.bin"), "-o", torrentFile))
            Assert.Equal(0, await create.WaitForExit(Wait));

        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        probe.Dispose();
        using var dht = new ActorsProcess("dht", "--count", "5", "--port", port.ToString(), "--host", "127.0.0.1");
        await dht.WaitForLine(_ => dht.StdoutLines.Count >= 5, Wait);
        var bootstrap = $"127.0.0.1:{port}";
        using var seeder = new ActorsProcess("peer", "seed", torrentFile, "--data", seedDir, "--host", "127.0.0.1", "--dht-bootstrap", bootstrap);
        using var leecher = new ActorsProcess("peer", "get", torrentFile, "--out", outDir, "--host", "127.0.0.1", "--dht-bootstrap", bootstrap);
        Assert.Equal(0, await leecher.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(outDir, "file.bin")));
        seeder.Signal("TERM");
        dht.Signal("TERM");
        await seeder.WaitForExit(Wait);
        await dht.WaitForExit(Wait);
    }

    /// <summary>A trackerless .torrent of random bytes in DIR/seed, its magnet link (no tr=), and a DHT of <paramref name="nodes"/> nodes on loopback.</summary>
    private static async Task<(string TorrentFile, string Magnet, byte[] Content, ActorsProcess Dht, string Bootstrap)> Trackerless(
        TempDirectory dir, int length, int nodes)
    {
        var seedDir = Directory.CreateDirectory(Path.Combine(dir.Path, "seed")).FullName;
        var content = new byte[length];
        new Random(length).NextBytes(content);
        File.WriteAllBytes(Path.Combine(seedDir, "file.bin"), content);
        var torrentFile = Path.Combine(dir.Path, "t.torrent");
        using (var create = new ActorsProcess("torrent", "create", Path.Combine(seedDir, "file.bin"), "-o", torrentFile))
            Assert.Equal(0, await create.WaitForExit(Wait));
        using var magnet = new ActorsProcess("torrent", "magnet", torrentFile);
        Assert.Equal(0, await magnet.WaitForExit(Wait));
        var link = Assert.Single(magnet.StdoutLines);
        Assert.StartsWith("magnet:?xt=urn:btih:", link);
        Assert.DoesNotContain("tr=", link);
        var port = FreeUdpPort();
        var dht = new ActorsProcess("dht", "--count", nodes.ToString(), "--port", port.ToString(), "--host", "127.0.0.1");
        await dht.WaitForLine(_ => dht.StdoutLines.Count >= nodes, Wait);
        return (torrentFile, link, content, dht, $"127.0.0.1:{port}");
    }

    [Fact]
    public async Task A_trackerless_magnet_link_downloads_from_our_seeder_found_through_the_DHT()
    {
        using var dir = new TempDirectory();
        var (torrentFile, magnet, content, dht, bootstrap) = await Trackerless(dir, 1_200_000, 5);
        using var _ = dht;
        using var seeder = new ActorsProcess("peer", "seed", torrentFile, "--data", Path.Combine(dir.Path, "seed"), "--host", "127.0.0.1", "--dht-bootstrap", bootstrap);
        await seeder.WaitForLine(l => l.Contains("listening on port"), Wait);
        var outDir = Path.Combine(dir.Path, "out");
        using var leecher = new ActorsProcess("peer", "get", magnet, "--out", outDir, "--host", "127.0.0.1", "--dht-bootstrap", bootstrap);
        Assert.Equal(0, await leecher.WaitForExit(TimeSpan.FromSeconds(120)));
        Assert.Contains(leecher.StdoutLines, l => l.Contains("fetching metadata from peers (and the DHT)"));
        Assert.Contains(leecher.StdoutLines, l => l.Contains("metadata verified"));
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(outDir, "file.bin")));
        seeder.Signal("TERM");
        dht.Signal("TERM");
        await seeder.WaitForExit(Wait);
        await dht.WaitForExit(Wait);
    }

    [FactRequiringTools("aria2c")]
    public async Task Aria2_downloads_a_trackerless_torrent_from_our_seeder_finding_it_through_our_DHT()
    {
        using var dir = new TempDirectory();
        var seedDir = Directory.CreateDirectory(Path.Combine(dir.Path, "seed")).FullName;
        var outDir = Directory.CreateDirectory(Path.Combine(dir.Path, "out")).FullName;
        var content = new byte[1_000_000];
        new Random(8).NextBytes(content);
        File.WriteAllBytes(Path.Combine(seedDir, "file.bin"), content);
        var torrentFile = Path.Combine(dir.Path, "t.torrent");
        using (var create = new ActorsProcess("torrent", "create", Path.Combine(seedDir, "file.bin"), "-o", torrentFile))
            Assert.Equal(0, await create.WaitForExit(Wait));

        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        probe.Dispose();
        using var dht = new ActorsProcess("dht", "--port", port.ToString(), "--host", "127.0.0.1");
        await dht.WaitForLine(_ => dht.StdoutLines.Count >= 1, Wait);
        using var seeder = new ActorsProcess("peer", "seed", torrentFile, "--data", seedDir, "--host", "127.0.0.1", "--dht-bootstrap", $"127.0.0.1:{port}");
        await seeder.WaitForLine(l => l.Contains("listening on port"), Wait);

        // aria2 with its DHT on (the shared flags turn it off), entering through our node.
        var flags = Aria2.Flags(Ports.Free()).Where(f => !f.StartsWith("--enable-dht=", StringComparison.Ordinal)).ToList();
        var aria = await ProcessRunner.RunAsync("aria2c",
            [.. flags, "--enable-dht=true", $"--dht-entry-point=127.0.0.1:{port}", $"--dht-listen-port={Ports.Free()}",
             $"--dht-file-path={Path.Combine(dir.Path, "aria2-dht.dat")}", "--seed-time=0", "-d", outDir, "-T", torrentFile],
            TimeSpan.FromSeconds(120));
        Assert.False(aria.TimedOut, aria.Output);
        Assert.Equal(0, aria.ExitCode);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(outDir, "file.bin")));
        seeder.Signal("TERM");
        dht.Signal("TERM");
        await seeder.WaitForExit(Wait);
        await dht.WaitForExit(Wait);
    }

    [FactRequiringTools("aria2c")]
    public async Task Aria2_downloads_a_trackerless_magnet_link_from_our_seeder_finding_it_through_our_DHT()
    {
        using var dir = new TempDirectory();
        var (torrentFile, magnet, content, dht, bootstrap) = await Trackerless(dir, 900_000, 1);
        using var _ = dht;
        using var seeder = new ActorsProcess("peer", "seed", torrentFile, "--data", Path.Combine(dir.Path, "seed"), "--host", "127.0.0.1", "--dht-bootstrap", bootstrap);
        await seeder.WaitForLine(l => l.Contains("listening on port"), Wait);
        var outDir = Directory.CreateDirectory(Path.Combine(dir.Path, "out")).FullName;

        // aria2 with its DHT on, entering through our node, and nothing but the magnet link: the
        // peers come from our DHT, the metadata (ut_metadata) and the pieces from our seeder.
        var flags = Aria2.Flags(Ports.Free()).Where(f => !f.StartsWith("--enable-dht=", StringComparison.Ordinal)).ToList();
        var aria = await ProcessRunner.RunAsync("aria2c",
            [.. flags, "--enable-dht=true", $"--dht-entry-point={bootstrap}", $"--dht-listen-port={Ports.Free()}",
             $"--dht-file-path={Path.Combine(dir.Path, "aria2-dht.dat")}", "--seed-time=0", "-d", outDir, magnet],
            TimeSpan.FromSeconds(120));
        Assert.False(aria.TimedOut, aria.Output);
        Assert.Equal(0, aria.ExitCode);
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(outDir, "file.bin")));
        seeder.Signal("TERM");
        dht.Signal("TERM");
        await seeder.WaitForExit(Wait);
        await dht.WaitForExit(Wait);
    }
}
