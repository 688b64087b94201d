using System.Diagnostics;
using Actors.Benchmarks.Reporting;
using Actors.Torrent.Tracker;
using Akka.Actor;

namespace Actors.Benchmarks.Scenarios;

/// <summary>
/// What Cluster Sharding would cost the tracker, in process (docs/PATTERNS.md, "What we chose not
/// to use"): Sharding makes every entity (a swarm) an actor. Measures N idle actors with one
/// handler (live GC heap and RSS per actor after full blocking collections, and the time to
/// create and start them) against what the tracker holds instead: N swarms of one peer each in
/// a <see cref="SwarmStore"/> (a swarm object and its dictionary entries), and N peers in N/100
/// swarms (a peer record in its swarm). Heap figures are exact whatever the load; times are not.
/// </summary>
public sealed class ActorCostScenario(BenchOptions options)
{
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        Machine.PrintHeader("actor-cost", TimeSpan.Zero, 1);
        var n = options.Count;
        Console.WriteLine($"N = {n:N0}; Akka.NET {typeof(ActorSystem).Assembly.GetName().Version}; server GC {System.Runtime.GCSettings.IsServerGC}");

        using var system = ActorSystem.Create("actor-cost");
        // Warm-up: the first actors fill type caches and pools that are no per-actor cost.
        await StartIdleActors(system, "warm", 1000, cancellationToken);

        var before = Snapshot.Take();
        var watch = Stopwatch.StartNew();
        var actors = await StartIdleActors(system, "idle", n, cancellationToken);
        var created = watch.Elapsed;
        var after = Snapshot.Take();
        GC.KeepAlive(actors);

        var (perSwarm, perPeer) = StoreCosts(n);

        var table = new ResultTable($"{n:N0} of each", "per item");
        table.Add("idle ReceiveActor (one handler): live GC heap", $"{(after.HeapBytes - before.HeapBytes) / (double)n:F0} B");
        table.Add("idle ReceiveActor: RSS", $"{(after.RssBytes - before.RssBytes) / (double)n:F0} B");
        table.Add("idle ReceiveActor: create and start", $"{created.TotalMicroseconds / n:F1} µs");
        table.Add("SwarmStore: a swarm of one peer (what Sharding would make an actor)", $"{perSwarm:F0} B");
        table.Add("SwarmStore: one more peer in a swarm", $"{perPeer:F0} B");
        table.Print();
        Console.WriteLine($"load average after run: {Machine.LoadAverage()}");
        await system.Terminate();
        return true;
    }

    /// <summary>Starts <paramref name="count"/> idle actors and waits until each has run its constructor.</summary>
    private static async Task<IActorRef[]> StartIdleActors(ActorSystem system, string prefix, int count, CancellationToken cancellationToken)
    {
        var started = new Started();
        var actors = new IActorRef[count];
        for (var i = 0; i < count; i++) actors[i] = system.ActorOf(Idle.Props(started), $"{prefix}-{i}");
        var deadline = Stopwatch.StartNew();
        while (Volatile.Read(ref started.Count) < count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(2)) throw new SetupException($"only {started.Count} of {count} actors started within 2 minutes");
            await Task.Delay(10, cancellationToken);
        }
        return actors;
    }

    /// <summary>Bytes per swarm (N swarms of one peer) and per peer (N peers in N/100 swarms) in the tracker's store.</summary>
    private static (double PerSwarm, double PerPeer) StoreCosts(int n)
    {
        var random = new Random(1);
        Id20 NewId() => new((ulong)random.NextInt64(), (ulong)random.NextInt64(), (uint)random.Next());
        var address = PeerAddress.From(System.Net.IPAddress.Loopback);

        var before = Snapshot.Take();
        var swarms = new SwarmStore(256);
        for (var i = 0; i < n; i++) swarms.Apply(new PeerChange(NewId(), NewId(), address, 6881, false, 1, false, false));
        var after = Snapshot.Take();
        GC.KeepAlive(swarms);
        var perSwarm = (after.HeapBytes - before.HeapBytes) / (double)n;

        var hashes = Enumerable.Range(0, Math.Max(1, n / 100)).Select(_ => NewId()).ToArray();
        before = Snapshot.Take();
        var peers = new SwarmStore(256);
        for (var i = 0; i < n; i++) peers.Apply(new PeerChange(hashes[i % hashes.Length], NewId(), address, 6881 + i % 1000, false, 1, false, false));
        after = Snapshot.Take();
        GC.KeepAlive(peers);
        return (perSwarm, (after.HeapBytes - before.HeapBytes) / (double)n);
    }

    private sealed class Started
    {
        public int Count;
    }

    /// <summary>An entity that does nothing: what every swarm would be under Sharding, before its state.</summary>
    private sealed class Idle : ReceiveActor
    {
        public static Props Props(Started started) => Akka.Actor.Props.Create(() => new Idle(started));

        public Idle(Started started)
        {
            Interlocked.Increment(ref started.Count);
            Receive<string>(_ => { });
        }
    }

    private sealed record Snapshot(long HeapBytes, long RssBytes)
    {
        public static Snapshot Take()
        {
            for (var i = 0; i < 3; i++)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
            }
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var rss = line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            return new Snapshot(GC.GetTotalMemory(forceFullCollection: true), rss);
        }
    }
}
