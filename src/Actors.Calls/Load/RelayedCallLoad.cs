using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Actors.Calls.Load;

/// <summary>
/// Concurrent relayed calls through one rendezvous, measured against a direct baseline: each step
/// runs the same media load first over direct loopback socket pairs, then over that many calls
/// through the relay. Added latency = relayed − direct (same load, same process, same clock).
/// Every call uses two fresh identities <c>{prefix}{n}</c> (the users file must hold
/// <see cref="IdentitiesFor"/> of them, each with <c>secret</c>).
/// </summary>
public sealed class RelayedCallLoad(IPEndPoint rendezvous, string secret, string idPrefix)
{
    /// <summary>Identities <see cref="AwaitRelayAsync"/> may use up (two per attempt, at most 80 attempts).</summary>
    public const int SpareIdentities = 200;
    private const int MaxRelayProbes = 80;
    private const int SetupBatch = 25; // calls set up at once: the rendezvous is not what is measured

    private int _next;

    /// <summary>How many identities a run of these steps needs (plus extra calls, e.g. throughput rounds).</summary>
    public static int IdentitiesFor(IEnumerable<int> steps, int extraCalls = 0) => 2 * (steps.Sum() + extraCalls) + SpareIdentities;

    /// <summary>The identity names <see cref="IdentitiesFor"/> counts, for a users file.</summary>
    public static IEnumerable<string> Identities(string prefix, int count) => Enumerable.Range(0, count).Select(i => prefix + i);

    /// <summary>One relayed call between two fresh identities: both ends' media sockets, joined at the relay.</summary>
    public async Task<(TcpClient A, TcpClient B)> CallAsync(CancellationToken cancel)
    {
        var n = Interlocked.Add(ref _next, 2);
        using var caller = await LoadClient.RegisterAsync(rendezvous, $"{idPrefix}{n - 2}", secret, cancel);
        using var callee = await LoadClient.RegisterAsync(rendezvous, $"{idPrefix}{n - 1}", secret, cancel);
        return await caller.CallThroughRelayAsync(callee, $"{idPrefix}call{n}", cancel);
    }

    /// <summary>
    /// The relay joins the cluster and publishes its load; until then no call can be relayed. Places
    /// a call every 500 ms until one is relayed, for at most <paramref name="timeout"/>.
    /// </summary>
    public async Task AwaitRelayAsync(TimeSpan timeout, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (a, b) = await CallAsync(cancel);
                a.Dispose();
                b.Dispose();
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or SocketException or TimeoutException
                                      && watch.Elapsed < timeout && attempt < MaxRelayProbes)
            {
                await Task.Delay(500, cancel);
            }
        }
    }

    /// <summary>
    /// One step: <paramref name="calls"/> direct pairs under the load (the baseline), then as many
    /// relayed calls set up and under the same load. Throws (InvalidOperationException, IOException,
    /// SocketException, TimeoutException) when the calls cannot be set up.
    /// </summary>
    public Task<StepResult> StepAsync(int calls, MediaShape shape, TimeSpan warmUp, TimeSpan measure, CancellationToken cancel) =>
        StepAsync(calls, shape, warmUp, measure, RelayedPairsAsync, cancel);

    /// <summary>
    /// One step against any way of joining two ends (a relay of ours, or another one for
    /// comparison): <paramref name="calls"/> direct pairs under the load, then the pairs
    /// <paramref name="join"/> sets up under the same load. <paramref name="join"/> returns every
    /// pair it made or throws having disposed them.
    /// </summary>
    public static async Task<StepResult> StepAsync(int calls, MediaShape shape, TimeSpan warmUp, TimeSpan measure,
        Func<int, CancellationToken, Task<List<(TcpClient A, TcpClient B)>>> join, CancellationToken cancel)
    {
        var baseline = await DirectAsync(calls, shape, warmUp, measure, cancel);
        var setup = Stopwatch.StartNew();
        var joined = await join(calls, cancel);
        try
        {
            var setupSeconds = setup.Elapsed.TotalSeconds;
            var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)warmUp.TotalMilliseconds;
            var result = await MediaLoad.RunAsync(joined, shape, warmUp, measure, cancel);
            return new StepResult(calls, setupSeconds, baseline, result, from, from + (long)measure.TotalMilliseconds);
        }
        finally { foreach (var (a, b) in joined) { a.Dispose(); b.Dispose(); } }
    }

    /// <summary>
    /// The load over <paramref name="calls"/> direct loopback socket pairs: the baseline of a step,
    /// and on its own what the load generator and the machine manage with no relay in between.
    /// </summary>
    public static async Task<MediaLoad.Result> DirectAsync(int calls, MediaShape shape, TimeSpan warmUp, TimeSpan measure, CancellationToken cancel)
    {
        var direct = await DirectPairsAsync(calls, cancel);
        try { return await MediaLoad.RunAsync(direct, shape, warmUp, measure, cancel); }
        finally { foreach (var (a, b) in direct) { a.Dispose(); b.Dispose(); } }
    }

    private async Task<List<(TcpClient A, TcpClient B)>> RelayedPairsAsync(int calls, CancellationToken cancel)
    {
        var relayed = new List<(TcpClient A, TcpClient B)>();
        try
        {
            foreach (var batch in Enumerable.Range(0, calls).Chunk(SetupBatch))
            {
                var placed = batch.Select(_ => CallAsync(cancel)).ToArray();
                try { relayed.AddRange(await Task.WhenAll(placed)); }
                catch
                {
                    // The calls of this batch that did get through are disposed with the rest.
                    relayed.AddRange(placed.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
                    throw;
                }
            }
            return relayed;
        }
        catch
        {
            foreach (var (a, b) in relayed) { a.Dispose(); b.Dispose(); }
            throw;
        }
    }

    private static async Task<List<(TcpClient A, TcpClient B)>> DirectPairsAsync(int count, CancellationToken cancel)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(count);
        return await PairsAsync(count, (IPEndPoint)listener.LocalEndpoint, listener, cancel);
    }

    /// <summary>
    /// <paramref name="count"/> pairs of connected sockets, each made by dialing
    /// <paramref name="dial"/> and taking the next connection <paramref name="arrivals"/> accepts:
    /// directly (<paramref name="dial"/> is that listener) or through something that carries each
    /// connection on to it (socat, for comparison). One pair at a time, so the connection accepted
    /// is the one just dialed; a connection that does not arrive within 10 s is a TimeoutException.
    /// On failure every socket made so far is disposed.
    /// </summary>
    public static async Task<List<(TcpClient A, TcpClient B)>> PairsAsync(int count, IPEndPoint dial, TcpListener arrivals, CancellationToken cancel)
    {
        var pairs = new List<(TcpClient A, TcpClient B)>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var client = new TcpClient { NoDelay = true };
                pairs.Add((client, client)); // disposed once if the accept fails
                await client.ConnectAsync(dial, cancel);
                var server = await arrivals.AcceptTcpClientAsync(cancel).AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancel);
                server.NoDelay = true;
                pairs[^1] = (client, server);
            }
            return pairs;
        }
        catch
        {
            foreach (var (a, b) in pairs) { a.Dispose(); b.Dispose(); }
            throw;
        }
    }
}

/// <summary>
/// One step of <see cref="RelayedCallLoad"/>: the direct baseline and the relayed load, and when
/// the relayed load was measured (Unix ms, for figures sampled elsewhere, e.g. the relay's CPU).
/// </summary>
public sealed record StepResult(int Calls, double SetupSeconds, MediaLoad.Result Direct, MediaLoad.Result Relayed, long MeasuredFromUnixMs, long MeasuredToUnixMs)
{
    public double AddedP50Ms => Relayed.P50Ms - Direct.P50Ms;
    public double AddedP99Ms => Relayed.P99Ms - Direct.P99Ms;
}
