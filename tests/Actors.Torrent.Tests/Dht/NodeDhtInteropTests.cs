using System.Net;
using System.Text.Json;
using Actors.Torrent.Dht;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit;
using Actors.Net.Udp;

namespace Actors.Torrent.Tests.Dht;

/// <summary>
/// Our DHT nodes with the reference JavaScript DHT (npm <c>bittorrent-dht</c>, run with node through
/// tests/interop-dht/driver.mjs), on loopback: each bootstraps from the other, get_peers is answered
/// both ways, and an announce by one is found by a lookup from the other.
/// </summary>
public sealed class NodeDhtInteropTests : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [FactRequiringNodeDht]
    public async Task Our_nodes_and_bittorrent_dht_join_through_each_other_and_find_each_others_announces()
    {
        // A (ours) stands alone; J (theirs) bootstraps from A; B (ours) bootstraps from J.
        var (a, aStarted) = StartNode([]);
        using var j = new NodeDht();
        var listening = await j.Send(new { cmd = "start", bootstrap = new[] { $"127.0.0.1:{aStarted.EndPoint.Port}" } }, "listening");
        var jPort = listening.GetProperty("port").GetInt32();
        var jId = NodeId.Parse(listening.GetProperty("id").GetString()!);
        await j.WaitFor("ready");
        var (b, _) = StartNode([new IPEndPoint(IPAddress.Loopback, jPort)]);

        // Ours learned theirs from its queries and answers; B joined through J and reached A too.
        AwaitAssert(() => Assert.True(a.Ask<DhtStatus>(GetDhtStatus.Instance, Wait).Result.TableSize >= 1), Wait);
        AwaitAssert(() => Assert.True(b.Ask<DhtStatus>(GetDhtStatus.Instance, Wait).Result.GoodNodes >= 2), Wait);
        b.Tell(new FindNode(jId), TestActor);
        Assert.Equal(jId, ExpectMsg<LookupCompleted>(Wait).Closest[0].Id);

        // Theirs announces; our B finds it with get_peers (answered by A or J).
        var fromTheirs = NodeId.Random();
        var announced = await j.Send(new { cmd = "announce", infoHash = fromTheirs.ToString(), port = 7001 }, "announced");
        Assert.Equal(JsonValueKind.Null, announced.GetProperty("error").ValueKind);
        b.Tell(new GetPeers(fromTheirs), TestActor);
        var found = ExpectMsg<LookupCompleted>(Wait);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 7001), found.Peers);

        // Ours announces (our tokens from their get_peers answers); their lookup finds it.
        var fromOurs = NodeId.Random();
        b.Tell(new AnnouncePeer(fromOurs, 7002), TestActor);
        var ours = ExpectMsg<AnnounceCompleted>(Wait);
        Assert.True(ours.AcceptedBy >= 2, $"accepted by {ours.AcceptedBy}"); // A and J
        var lookup = await j.Send(new { cmd = "lookup", infoHash = fromOurs.ToString() }, "lookup");
        Assert.Contains("127.0.0.1:7002", lookup.GetProperty("peers").EnumerateArray().Select(p => p.GetString()));
    }

    private (IActorRef, DhtNodeStarted) StartNode(IPEndPoint[] bootstrap)
    {
        var probe = CreateTestProbe();
        DatagramMailbox.Ensure(Sys);
        var node = Sys.ActorOf(DhtNode.Props(new DhtSettings
        {
            Host = IPAddress.Loopback,
            Bootstrap = bootstrap,
            QueryTimeout = TimeSpan.FromSeconds(1),
            MaintenanceInterval = TimeSpan.FromSeconds(1),
            BootstrapRetry = TimeSpan.FromMilliseconds(300),
        }, probe.Ref));
        return (node, probe.ExpectMsg<DhtNodeStarted>(Wait));
    }

    /// <summary>tests/interop-dht/driver.mjs under node: JSON commands in, JSON events out.</summary>
    private sealed class NodeDht : IDisposable
    {
        private readonly ProcessRunner _process = new("node", [Path.Combine(FactRequiringNodeDhtAttribute.Folder!, "driver.mjs")],
            FactRequiringNodeDhtAttribute.Folder, name: "bittorrent-dht");
        private int _seen;

        public async Task<JsonElement> Send(object command, string awaitEvent)
        {
            _process.WriteLine(JsonSerializer.Serialize(command));
            return await WaitFor(awaitEvent);
        }

        /// <summary>The next event of this kind after the ones already returned.</summary>
        public async Task<JsonElement> WaitFor(string name)
        {
            var deadline = DateTime.UtcNow + Wait;
            while (DateTime.UtcNow < deadline)
            {
                var lines = _process.StdoutLines.ToList();
                for (; _seen < lines.Count; _seen++)
                {
                    var element = JsonDocument.Parse(lines[_seen]).RootElement;
                    if (element.GetProperty("event").GetString() == name)
                    {
                        _seen++;
                        return element;
                    }
                }
                if (_process.HasExited) break;
                await Task.Delay(50);
            }
            throw new TimeoutException($"bittorrent-dht sent no '{name}' event; it said:\n{_process.Output}");
        }

        public void Dispose()
        {
            try { _process.CloseInput(); _process.WaitForExit(TimeSpan.FromSeconds(5)); } catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}

/// <summary>
/// A fact that needs node and tests/interop-dht/node_modules (.ci/run installs them): skipped
/// visibly when either is missing, and under CI run anyway so that it fails.
/// </summary>
public sealed class FactRequiringNodeDhtAttribute : FactAttribute
{
    public static string? Folder { get; } = FindFolder();

    public FactRequiringNodeDhtAttribute()
    {
        var reason = Tools.WhyMissing("node")
                     ?? (Folder is null || !Directory.Exists(Path.Combine(Folder, "node_modules", "bittorrent-dht"))
                         ? "tests/interop-dht/node_modules is missing (cd tests/interop-dht && npm ci --omit=optional --ignore-scripts)"
                         : null);
        Skip = Tools.SkipUnlessCi(reason);
    }

    private static string? FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln"))) return Path.Combine(dir.FullName, "tests", "interop-dht");
        return null;
    }
}
