using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Tracker;

/// <summary>
/// kill -9 of one node of a two-node tracker under load, measured: clients announce to both
/// nodes, each announce into a swarm of its own (a fresh random info-hash), so that afterwards a
/// scrape of that swarm on the survivor says exactly whether the announce is still held. Every
/// announce answered with a peer list before, during or after the kill is checked; the loss is
/// the answered announces the survivor does not hold.
/// </summary>
public static class FailoverProbe
{
    public sealed record Result(int Answered, int AnsweredBeforeKill, int Lost, int Failed, TimeSpan LongestAnswerAfterKill, TimeSpan LoadTime);

    public static async Task<Result> RunAsync(RunningServer pair, TimeSpan before, TimeSpan after, CancellationToken cancellationToken)
    {
        var answered = new ConcurrentBag<(byte[] Hash, bool BeforeKill, TimeSpan Took, bool AfterKillStarted)>();
        var failed = 0;
        var killed = 0;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(20) };
        var clock = Stopwatch.StartNew();
        var stopAt = before + after;

        async Task Worker(int index)
        {
            var node = index % 2;
            while (clock.Elapsed < stopAt && !cancellationToken.IsCancellationRequested)
            {
                // The killed node refuses connections: its clients move to the survivor, as a client with two tracker URLs would.
                var target = Volatile.Read(ref killed) == 1 ? 1 : node;
                var hash = RandomNumberGenerator.GetBytes(20);
                var peerId = "-BM0001-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
                var path = AnnounceScript.AnnouncePath(InfoHashSet.PercentEncode(hash), peerId, 1024 + index);
                var started = clock.Elapsed;
                var startedAfterKill = Volatile.Read(ref killed) == 1;
                try
                {
                    var body = Encoding.Latin1.GetString(await http.GetByteArrayAsync(pair.BaseUrls[target] + path, cancellationToken));
                    if (body.StartsWith('d') && !body.Contains("failure reason", StringComparison.Ordinal))
                        answered.Add((hash, started < before && !startedAfterKill, clock.Elapsed - started, startedAfterKill));
                    else Interlocked.Increment(ref failed);
                }
                // A socket the killed node reset between connect and send surfaces as a bare SocketException
                // ("Transport endpoint is not connected", from the pool's connect), not wrapped.
                catch (Exception e) when (e is HttpRequestException or System.Net.Sockets.SocketException or IOException)
                {
                    Interlocked.Increment(ref failed);
                }
                catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }

        var workers = Enumerable.Range(0, 32).Select(Worker).ToList();
        await Task.Delay(before, cancellationToken);
        pair.KillNode(0);
        Volatile.Write(ref killed, 1);
        await Task.WhenAll(workers);
        var loadTime = clock.Elapsed;

        // Check every answered announce on the survivor, 50 swarms per scrape.
        var lost = 0;
        foreach (var chunk in answered.Chunk(50))
        {
            var query = string.Join('&', chunk.Select(a => "info_hash=" + InfoHashSet.PercentEncode(a.Hash)));
            var body = Encoding.Latin1.GetString(await http.GetByteArrayAsync($"{pair.BaseUrls[1]}/scrape?{query}", cancellationToken));
            var held = body.Split("10:incompletei1e").Length - 1;
            lost += chunk.Length - held;
        }
        var afterKill = answered.Where(a => a.AfterKillStarted).Select(a => a.Took).DefaultIfEmpty(TimeSpan.Zero).Max();
        return new Result(answered.Count, answered.Count(a => a.BeforeKill), lost, failed, afterKill, loadTime);
    }
}
