using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Actors.Benchmarks.Servers;

namespace Actors.Benchmarks.Tracker;

/// <summary>
/// How soon an announce answered by one node of a two-node tracker is seen by the other, measured
/// while the pair carries load: probes announce a fresh peer into a swarm of its own (a random
/// info-hash) to one node, alternating, and from the moment that node answers, scrape the swarm
/// on the other node until it counts the peer (every millisecond, at most 5 s). The lag is the
/// time from the answer to the sending of the first scrape that saw the peer — an upper bound, 0
/// when the very first look saw it. With synchronous replication the other holder has every
/// answered announce before the answer leaves, so every first look sees it; with asynchronous
/// replication the change follows in the next batch.
/// </summary>
public static class VisibilityProbe
{
    public sealed record Result(int Probes, int SeenAtFirstLook, int NeverSeen, TimeSpan Median, TimeSpan P99, TimeSpan Max)
    {
        public override string ToString() =>
            $"{Probes:N0} probes: seen at the first look {SeenAtFirstLook:N0} ({100.0 * SeenAtFirstLook / Math.Max(1, Probes):0.#} %), " +
            $"not within 5 s {NeverSeen:N0}; lag median {Median.TotalMilliseconds:0.0} ms, p99 {P99.TotalMilliseconds:0.0} ms, max {Max.TotalMilliseconds:0.0} ms";
    }

    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="workers"/> probe loops for <paramref name="duration"/>.</summary>
    public static async Task<Result> RunAsync(RunningServer pair, TimeSpan duration, int workers, CancellationToken cancellationToken)
    {
        if (pair.BaseUrls.Count < 2) throw new ArgumentException("the probe needs two nodes", nameof(pair));
        var lags = new List<TimeSpan>();
        var neverSeen = 0;
        var seenAtFirstLook = 0;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2 * workers }) { Timeout = TimeSpan.FromSeconds(20) };
        var clock = Stopwatch.StartNew();

        async Task Worker(int index)
        {
            for (var probe = 0; clock.Elapsed < duration && !cancellationToken.IsCancellationRequested; probe++)
            {
                var writer = (index + probe) % 2;
                var hash = RandomNumberGenerator.GetBytes(20);
                var encoded = InfoHashSet.PercentEncode(hash);
                var peerId = "-BM0002-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
                var answer = Encoding.Latin1.GetString(await http.GetByteArrayAsync(
                    pair.BaseUrls[writer] + AnnounceScript.AnnouncePath(encoded, peerId, 2000 + index), cancellationToken));
                if (!answer.StartsWith('d') || answer.Contains("failure reason", StringComparison.Ordinal))
                    throw new InvalidOperationException($"node {writer} did not accept the probe's announce: {answer}");
                var answered = clock.Elapsed;
                TimeSpan? lag = null;
                var looks = 0;
                while (clock.Elapsed - answered < GiveUpAfter)
                {
                    looks++;
                    var looked = clock.Elapsed;
                    var scrape = Encoding.Latin1.GetString(await http.GetByteArrayAsync(
                        $"{pair.BaseUrls[1 - writer]}/scrape?info_hash={encoded}", cancellationToken));
                    if (scrape.Contains("10:incompletei1e", StringComparison.Ordinal))
                    {
                        lag = looked - answered;
                        break;
                    }
                    await Task.Delay(1, cancellationToken);
                }
                lock (lags)
                {
                    if (lag is { } seen) lags.Add(seen);
                    else neverSeen++;
                    if (lag is not null && looks == 1) seenAtFirstLook++;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(Worker));
        lags.Sort();
        TimeSpan At(double quantile) => lags.Count == 0 ? TimeSpan.Zero : lags[(int)Math.Min(lags.Count - 1, Math.Floor(quantile * lags.Count))];
        return new Result(lags.Count + neverSeen, seenAtFirstLook, neverSeen, At(0.5), At(0.99), lags.Count == 0 ? TimeSpan.Zero : lags[^1]);
    }
}
