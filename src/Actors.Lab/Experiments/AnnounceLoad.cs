using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Actors.Lab.Experiments;

/// <summary>
/// Announce load: fresh peers announcing <c>started</c> into a few swarms, round-robin over the
/// tracker nodes, at a steady rate. Every answered announce (200 with a peer list, no failure
/// reason) is remembered — which tracker answered, which swarm, which port — so the checker can
/// ask the surviving trackers afterwards whether each of them is still in its swarm.
/// </summary>
public sealed class AnnounceLoad(AnnounceLoadSpec spec, Func<string, int> portOf, int seed) : IDisposable
{
    public sealed record Answered(int Torrent, int Port, string Tracker, long UnixMs);

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Answered> _answered = new();
    private int _failed;
    private Task _loop = Task.CompletedTask;

    public IReadOnlyCollection<Answered> AnsweredAnnounces => _answered;
    public int Failed => _failed;
    public int Ok => _answered.Count;

    public static byte[] InfoHash(int torrent) => SHA1.HashData(Encoding.ASCII.GetBytes($"actors-lab-swarm-{torrent}"));

    public void Start()
    {
        _loop = Task.Run(async () =>
        {
            var random = new Random(seed);
            var period = TimeSpan.FromSeconds(1.0 / spec.Rate);
            var watch = Stopwatch.StartNew();
            var pending = new List<Task>();
            for (long i = 0; !_stop.IsCancellationRequested; i++)
            {
                var due = period * i - watch.Elapsed;
                if (due > TimeSpan.Zero) { try { await Task.Delay(due, _stop.Token); } catch (OperationCanceledException) { break; } }
                var tracker = spec.Trackers[(int)(i % spec.Trackers.Count)];
                var torrent = (int)(i / spec.Trackers.Count % spec.Torrents);
                // Ports from 10000 up, unique per announce: a port is the peer's identity in the checks.
                var port = 10_000 + (int)i;
                if (port > 65_000) break;
                pending.Add(AnnounceOne(tracker, torrent, port, random.Next()));
                pending.RemoveAll(t => t.IsCompleted);
                if (pending.Count > 200) await Task.WhenAny(pending); // a tracker that hangs must not pile up requests
            }
            await Task.WhenAll(pending);
        });
    }

    private async Task AnnounceOne(string tracker, int torrent, int port, int id)
    {
        var peers = await Announce(tracker, torrent, port, $"-LB0001-{id:x12}"[..20], numWant: 0);
        if (peers is null) Interlocked.Increment(ref _failed);
        else _answered.Enqueue(new Answered(torrent, port, tracker, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    }

    /// <summary>One announce; the ports of the peers in the answer, or null when it failed (no answer, non-200, failure reason).</summary>
    public async Task<HashSet<int>?> Announce(string tracker, int torrent, int port, string peerId, int numWant)
    {
        var url = $"http://127.0.0.1:{portOf(tracker)}/announce?info_hash={Escape(InfoHash(torrent))}&peer_id={Uri.EscapeDataString(peerId)}" +
                  $"&port={port}&uploaded=0&downloaded=0&left=1000&compact=1&event=started&numwant={numWant}";
        try
        {
            using var response = await _http.GetAsync(url);
            if (!response.IsSuccessStatusCode) return null;
            var body = await response.Content.ReadAsByteArrayAsync();
            return ParsePeers(body);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { return null; }
    }

    /// <summary>The swarm as one tracker node sees it: the ports of up to 200 peers (the tracker's max numwant), null if it does not answer.</summary>
    public Task<HashSet<int>?> SwarmAt(string tracker, int torrent) => Announce(tracker, torrent, 9_999, "-LBPROBE-000000000000"[..20], numWant: 200);

    /// <summary>
    /// The compact peer list of a bencoded announce answer (just enough bencode: find "5:peers" and
    /// read its length-prefixed string); null when the answer is a failure.
    /// </summary>
    public static HashSet<int>? ParsePeers(ReadOnlySpan<byte> body)
    {
        if (body.IndexOf("14:failure reason"u8) >= 0) return null;
        var at = body.IndexOf("5:peers"u8);
        if (at < 0) return null;
        var rest = body[(at + 7)..];
        var colon = rest.IndexOf((byte)':');
        if (colon <= 0 || !int.TryParse(Encoding.ASCII.GetString(rest[..colon]), out var length) || colon + 1 + length > rest.Length) return null;
        var peers = rest.Slice(colon + 1, length);
        var ports = new HashSet<int>();
        for (var i = 0; i + 6 <= peers.Length; i += 6) ports.Add(BinaryPrimitives.ReadUInt16BigEndian(peers.Slice(i + 4, 2)));
        return ports;
    }

    private static string Escape(byte[] bytes) => string.Concat(bytes.Select(b => $"%{b:X2}"));

    public async Task Stop()
    {
        _stop.Cancel();
        try { await _loop.WaitAsync(TimeSpan.FromSeconds(10)); } catch (TimeoutException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _http.Dispose();
        _stop.Dispose();
    }
}
