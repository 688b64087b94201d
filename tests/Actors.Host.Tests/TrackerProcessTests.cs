using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Actors.Torrent.Bencode;
using Xunit;

namespace Actors.Host.Tests;

/// <summary>
/// The tracker as real processes: the CLI, a kill -9 of one of two clustered tracker nodes, and
/// real clients (curl, aria2c) using our tracker and our .torrent files. All on 127.0.0.1.
/// </summary>
public sealed class TrackerProcessTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(40);
    private readonly string _dir = Directory.CreateTempSubdirectory("actors-tracker-tests-").FullName;
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        ToolProcess.StopAll(_started);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly byte[] Hash = Enumerable.Range(0, 20).Select(i => (byte)(i * 7 + 0x80)).ToArray();

    private static byte[] SwarmHash(int swarm) => swarm == 0 ? Hash : Enumerable.Range(0, 20).Select(i => (byte)(i * 7 + 0x80 + swarm * 41)).ToArray();

    private static string Announce(int port, string peerId, int peerPort, string extra = "", int swarm = 0) =>
        $"http://127.0.0.1:{port}/announce?info_hash={Encode(SwarmHash(swarm))}&peer_id={Encode(Encoding.ASCII.GetBytes(peerId.PadRight(20, '-')))}" +
        $"&port={peerPort}&uploaded=0&downloaded=0&left=1&compact=1{extra}";

    private static string Encode(byte[] bytes) => string.Concat(bytes.Select(b => char.IsAsciiLetterOrDigit((char)b) ? ((char)b).ToString() : $"%{b:X2}"));

    private static HashSet<int> PortsIn(byte[] body)
    {
        // The compact peers string (BEP 23): 6 bytes per peer, the port in the last two.
        var peers = ((BDictionary)BencodeDecoder.Decode(body)).Get<BString>("peers")!.Bytes.ToArray();
        return Enumerable.Range(0, peers.Length / 6).Select(i => peers[i * 6 + 4] << 8 | peers[i * 6 + 5]).ToHashSet();
    }

    [Fact]
    public async Task Tracker_help_names_its_options()
    {
        using var actors = new ActorsProcess("tracker", "--help");
        Assert.Equal(0, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.Contains("--port PORT") && l.Contains("[actors.web.port]"));
        Assert.Contains(actors.Lines, l => l.Contains("--interval DURATION"));
        Assert.Contains(actors.Lines, l => l.Contains("--udp-port PORT") && l.Contains("[actors.tracker.udp-port]"));
        Assert.Contains(actors.Lines, l => l.Contains("--cluster-port PORT"));
    }

    [Fact]
    public async Task The_udp_tracker_answers_on_the_http_port_number_and_udp_port_0_turns_it_off()
    {
        var port = ActorsProcess.FreePort();
        using (var tracker = new ActorsProcess("tracker", "--port", port.ToString(), "--host", "127.0.0.1"))
        {
            await tracker.WaitForLine(l => l.Contains("UDP tracker (BEP 15) listening on") && l.Contains($":{port}"), Timeout);
            Assert.Equal(16, (await UdpConnect(port))?.Length);
        }
        var off = ActorsProcess.FreePort();
        using var silent = new ActorsProcess("tracker", "--port", off.ToString(), "--host", "127.0.0.1", "--udp-port", "0");
        await ActorsProcess.WaitForPort(off, Timeout);
        Assert.Null(await UdpConnect(off));
    }

    /// <summary>A BEP 15 connect to 127.0.0.1:<paramref name="port"/>; the answer, or null after a second of silence.</summary>
    private static async Task<byte[]?> UdpConnect(int port)
    {
        using var client = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var request = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(request, 0x41727101980);
        request[15] = 7;
        await client.SendAsync(request, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try { return (await client.ReceiveAsync(wait.Token)).Buffer; }
        catch (OperationCanceledException) { return null; }
        catch (System.Net.Sockets.SocketException) { return null; } // port unreachable
    }

    [FactRequiringTools("curl")]
    public async Task A_curl_announce_gets_a_bencoded_answer_and_garbage_gets_a_failure_reason()
    {
        var port = ActorsProcess.FreePort();
        using var tracker = new ActorsProcess("tracker", "--port", port.ToString(), "--host", "127.0.0.1");
        await ActorsProcess.WaitForPort(port, Timeout);
        var ok = Run("curl", "-sS", "--max-time", "10", Announce(port, "curl", 6881));
        Assert.StartsWith("d8:completei0e10:incompletei1e8:intervali1800e12:min intervali300e5:peers0:e", ok);
        var bad = Run("curl", "-sS", "--max-time", "10", $"http://127.0.0.1:{port}/announce?info_hash=%ZZ%00&port=x");
        Assert.Equal("d14:failure reason22:malformed query stringe", bad);
    }

    [Fact]
    public async Task Killing_one_of_two_tracker_nodes_loses_no_swarm_member()
    {
        var clusterA = ActorsProcess.FreePort();
        var httpA = ActorsProcess.FreePort();
        var httpB = ActorsProcess.FreePort();
        using var a = new ActorsProcess("tracker", "--port", httpA.ToString(), "--host", "127.0.0.1", "--cluster-port", clusterA.ToString());
        await a.WaitForLine(l => l.Contains("Member up") && l.Contains($":{clusterA}"), Timeout);
        var clusterB = ActorsProcess.FreePort();
        using var b = new ActorsProcess("tracker", "--port", httpB.ToString(), "--host", "127.0.0.1", "--cluster-port", clusterB.ToString(),
            "--seed", $"127.0.0.1:{clusterA}");
        // Both registries see a two-node view: every swarm has an owner and a backup.
        await a.WaitForLine(l => l.Contains("Tracker view: 2 node(s)"), Timeout);
        await b.WaitForLine(l => l.Contains("Tracker view: 2 node(s)"), Timeout);
        await ActorsProcess.WaitForPort(httpB, Timeout);

        // Four swarms, so that some are owned by the node we kill and some by the survivor.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var expected = new Dictionary<int, HashSet<int>>();
        for (var i = 0; i < 16; i++)
        {
            var port = 20000 + i;
            (expected.TryGetValue(i % 4, out var ports) ? ports : expected[i % 4] = []).Add(port);
            var answer = await http.GetByteArrayAsync(Announce(i % 2 == 0 ? httpA : httpB, $"peer{i}", port, swarm: i % 4));
            Assert.StartsWith("d8:complete", Encoding.Latin1.GetString(answer));
        }

        // Each answered announce is on the swarm's owner and its backup: kill -9 A at once. B
        // answers for A's swarms once it sees A unreachable (a few seconds).
        a.Signal("KILL");
        await a.WaitForExit(Timeout);
        for (var swarm = 0; swarm < 4; swarm++)
        {
            var seen = PortsIn(await http.GetByteArrayAsync(Announce(httpB, "observer", 30000, "&numwant=200", swarm)));
            Assert.Equal(expected[swarm], seen);
        }
    }

    [FactRequiringTools("mktorrent", "transmission-show")]
    public async Task Torrent_show_prints_the_info_hash_transmission_show_reports()
    {
        var file = Path.Combine(_dir, "data.bin");
        await File.WriteAllBytesAsync(file, RandomNumberGenerator.GetBytes(300_000));
        var torrent = Path.Combine(_dir, "data.torrent");
        Run("mktorrent", "-a", "http://127.0.0.1:1/announce", "-o", torrent, file);
        var theirs = Run("transmission-show", torrent).Split('\n').First(l => l.Contains("Hash")).Split(':')[1].Trim();

        using var actors = new ActorsProcess("torrent", "show", torrent);
        Assert.Equal(0, await actors.WaitForExit(Timeout));
        Assert.Contains(actors.Lines, l => l.StartsWith("Info-hash:") && l.Contains(theirs, StringComparison.OrdinalIgnoreCase));

        using var bad = new ActorsProcess("torrent", "show", file);
        Assert.Equal(2, await bad.WaitForExit(Timeout));
        Assert.Single(bad.Lines);
    }

    [FactRequiringTools("aria2c")]
    public async Task Aria2_downloads_from_an_aria2_seeder_through_our_tracker_with_our_torrent()
    {
        var trackerPort = ActorsProcess.FreePort();
        var seedDir = Directory.CreateDirectory(Path.Combine(_dir, "seed")).FullName;
        var leechDir = Directory.CreateDirectory(Path.Combine(_dir, "leech")).FullName;
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 12345);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "payload.bin"), content);
        var torrent = Path.Combine(_dir, "payload.torrent");

        using var tracker = new ActorsProcess("tracker", "--port", trackerPort.ToString(), "--host", "127.0.0.1", "--interval", "5s", "--min-interval", "1s");
        using (var create = new ActorsProcess("torrent", "create", Path.Combine(seedDir, "payload.bin"),
                   "--tracker", $"http://127.0.0.1:{trackerPort}/announce", "-o", torrent, "--piece-length", "65536"))
            Assert.Equal(0, await create.WaitForExit(Timeout));
        await ActorsProcess.WaitForPort(trackerPort, Timeout);

        string[] common = ["--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--bt-tracker-interval=2", "--console-log-level=warn", "--summary-interval=0", "--file-allocation=none", "--log-level=info"];
        // Distinct listen ports: the tracker never hands a client its own ip:port.
        var seederPort = ActorsProcess.FreePort();
        var leecherPort = ActorsProcess.FreePort();
        while (leecherPort == seederPort) leecherPort = ActorsProcess.FreePort();
        // The seeder outlives any leecher run; Dispose stops it. --seed-ratio=0.0: aria2 stops seeding
        // at a share ratio of 1.0 by default (seed-time or ratio, whichever comes first), which on a
        // loaded machine came while the leecher still missed its last pieces (sent twice, say).
        Start("aria2c", [.. common, $"--listen-port={seederPort}", $"--dir={seedDir}", "--check-integrity=true",
            "--bt-seed-unverified=false", "--seed-time=600", "--seed-ratio=0.0", $"--log={Path.Combine(_dir, "seeder.log")}", torrent]);

        // Wait until the seeder is in the swarm, then start the leecher.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + Timeout;
        while (PeerLab.Seeders(await http.GetByteArrayAsync($"http://127.0.0.1:{trackerPort}/scrape")) < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the aria2 seeder never announced");
            await Task.Delay(200);
        }
        var leecher = Start("aria2c", [.. common, $"--listen-port={leecherPort}", $"--dir={leechDir}", "--seed-time=0",
            $"--log={Path.Combine(_dir, "leecher.log")}", torrent]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try { await leecher.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            Assert.Fail("the aria2 leecher did not finish in 120 s\n" + Tail("leecher.log") + "\n--- seeder ---\n" + Tail("seeder.log")
                + "\n--- tracker ---\n" + string.Join('\n', tracker.Lines.TakeLast(30)));
        }
        Assert.True(leecher.ExitCode == 0, "aria2 leecher failed\n" + Tail("leecher.log"));
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(leechDir, "payload.bin"))));
    }

    private string Tail(string log)
    {
        var path = Path.Combine(_dir, log);
        return File.Exists(path) ? string.Join('\n', File.ReadLines(path).TakeLast(40)) : $"(no {log})";
    }

    private Process Start(string tool, string[] args)
    {
        var process = ToolProcess.Start(tool, args, _dir);
        _started.Add(process);
        return process;
    }

    private string Run(string tool, params string[] args) => ExternalTool.Run(tool, _dir, TimeSpan.FromSeconds(30), args);
}
