using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Actors.Lab.Experiments;

/// <summary>
/// The swarm and call load as real processes (<c>actors peer</c>, <c>actors caller</c>), named
/// seeder-I, leecher-I, callee-I, caller-I, each in the cluster's manifests so the method can kill
/// or restart them through the lab. What they print is read from their logs four times a second
/// and timestamped (Unix ms: the run's clock starts only with the method): a leecher's "complete and verified", a caller's
/// "registered as", its call report (one JSON line).
/// </summary>
public sealed class LoadProcesses : IDisposable
{
    public sealed record CallReport(string Id, string Role, string Result, string Path, int PathChanges, double Loss, int FramesReceived, double DurationS, long UnixMs)
    {
        /// <summary>Media lost while the path changed: frames that never arrived × 20 ms (a frame every 20 ms).</summary>
        public double GapMs => Loss >= 1 ? DurationS * 1000 : FramesReceived / (1 - Loss) * Loss * 20;
    }

    private readonly ScenarioCluster _cluster;
    private readonly Func<long> _clock;
    private readonly Action<string, string, string> _event;
    private readonly Dictionary<string, long> _offsets = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _watcher = Task.CompletedTask;

    public string SwarmDirectory => Path.Combine(_cluster.Directory, "swarm");
    public string SeedFile => Path.Combine(SwarmDirectory, "seeder-0", "data.bin");
    public List<string> Leechers { get; } = [];
    public List<string> Seeders { get; } = [];
    public List<string> Callees { get; } = [];
    public List<string> Callers { get; } = [];
    public Dictionary<string, string> FirstRendezvous { get; } = [];
    public ConcurrentDictionary<string, long> Completed { get; } = new();
    public ConcurrentDictionary<string, List<long>> Registrations { get; } = new();
    public ConcurrentDictionary<string, long> Connected { get; } = new();
    public ConcurrentQueue<CallReport> Reports { get; } = new();
    public long SwarmSize { get; private set; }

    public LoadProcesses(ScenarioCluster cluster, Func<long> clock, Action<string, string, string> recordEvent)
    {
        _cluster = cluster;
        _clock = clock;
        _event = recordEvent;
    }

    /// <summary>Seeders start now (random data drawn from the seed, a torrent made by <c>actors torrent create</c>); leechers start on <see cref="StartLeechers"/>.</summary>
    public async Task PrepareSwarm(SwarmLoadSpec spec, int seed, IReadOnlyList<string> actors, int seederLinkPort, CancellationToken cancel, int? firstSeederPort = null)
    {
        SwarmSize = spec.Size;
        for (var i = 0; i < spec.Seeders; i++) Directory.CreateDirectory(Path.Combine(SwarmDirectory, $"seeder-{i}"));
        var data = new byte[spec.Size];
        new Random(seed).NextBytes(data);
        for (var i = 0; i < spec.Seeders; i++) await File.WriteAllBytesAsync(Path.Combine(SwarmDirectory, $"seeder-{i}", "data.bin"), data, cancel);
        var torrent = Path.Combine(SwarmDirectory, "data.torrent");
        var info = new ProcessStartInfo(actors[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in actors.Skip(1).Concat(["torrent", "create", SeedFile, "--tracker", $"http://127.0.0.1:{_cluster.PortOf(spec.Tracker)}/announce",
                     "--piece-length", $"{spec.PieceLength}", "-o", torrent]))
            info.ArgumentList.Add(arg);
        using var create = Process.Start(info)!;
        await create.WaitForExitAsync(cancel).WaitAsync(TimeSpan.FromSeconds(60), cancel);
        if (create.ExitCode != 0) throw new InvalidOperationException($"actors torrent create failed: {await create.StandardError.ReadToEndAsync(cancel)}");
        for (var i = 0; i < spec.Seeders; i++)
        {
            var name = $"seeder-{i}";
            var port = i == 0 && firstSeederPort is { } given ? given : _cluster.FreePort();
            string[] args = ["peer", "seed", torrent, "--data", Path.Combine(SwarmDirectory, name), "--host", "127.0.0.1", "--port", $"{port}"];
            if (spec.UpCap > 0) args = [.. args, "--max-up", $"{spec.UpCap}"];
            if (i == 0 && seederLinkPort > 0) args = [.. args, "--announce-port", $"{seederLinkPort}"];
            _cluster.StartLoad(name, port, args);
            Seeders.Add(name);
        }
        _pendingLeechers = (spec, torrent);
    }

    private (SwarmLoadSpec Spec, string Torrent)? _pendingLeechers;

    public void StartLeechers()
    {
        if (_pendingLeechers is not var (spec, torrent)) return;
        _pendingLeechers = null;
        for (var i = 0; i < spec.Peers; i++)
        {
            var name = $"leecher-{i}";
            var port = _cluster.FreePort();
            // --seed: a leecher that completes stays and uploads, as real swarms behave.
            string[] args = ["peer", "get", torrent, "--out", Path.Combine(SwarmDirectory, name), "--seed", "--host", "127.0.0.1", "--port", $"{port}"];
            if (spec.UpCap > 0) args = [.. args, "--max-up", $"{spec.UpCap}"];
            _cluster.StartLoad(name, port, args);
            Leechers.Add(name);
        }
        _event("runner", "load", $"{spec.Peers} leechers started");
    }

    public void StartCallees(CallLoadSpec spec, string secret)
    {
        for (var i = 0; i < spec.Pairs; i++)
        {
            var name = $"callee-{i}";
            var rendezvous = Rotate(spec.Rendezvous, i);
            FirstRendezvous[name] = rendezvous[0];
            // No --listen: unreachable, so a call between two of ours goes through a relay.
            _cluster.StartLoad(name, 0, ["caller", "--id", name, "--secret", secret, .. rendezvous.SelectMany(r => new[] { "--rendezvous", $"127.0.0.1:{_cluster.PortOf(r)}" }), "--auto-answer"]);
            Callees.Add(name);
        }
    }

    public void StartCallers(CallLoadSpec spec, string secret)
    {
        for (var i = 0; i < spec.Pairs; i++)
        {
            var name = $"caller-{i}";
            var rendezvous = Rotate(spec.Rendezvous, i + 1);
            FirstRendezvous[name] = rendezvous[0];
            _cluster.StartLoad(name, 0, ["caller", "--id", name, "--secret", secret, .. rendezvous.SelectMany(r => new[] { "--rendezvous", $"127.0.0.1:{_cluster.PortOf(r)}" }),
                "--call", $"callee-{i}", "--duration", $"{(int)Math.Ceiling(spec.CallDuration.TotalSeconds)}"]);
            Callers.Add(name);
        }
        _event("runner", "load", $"{spec.Pairs} calls placed");
    }

    private static List<string> Rotate(IReadOnlyList<string> items, int by) => [.. items.Skip(by % items.Count), .. items.Take(by % items.Count)];

    public void StartWatching() => _watcher = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            ReadLogs();
            try { await Task.Delay(250, _stop.Token); } catch (OperationCanceledException) { }
        }
        ReadLogs();
    });

    private void ReadLogs()
    {
        foreach (var name in Leechers.Concat(Callees).Concat(Callers).ToList())
        {
            var path = Path.Combine(_cluster.Logs, name + ".log");
            if (!File.Exists(path)) continue;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                stream.Seek(_offsets.GetValueOrDefault(name), SeekOrigin.Begin);
                using var reader = new StreamReader(stream);
                var text = reader.ReadToEnd();
                var lastNewline = text.LastIndexOf('\n');
                if (lastNewline < 0) continue;
                _offsets[name] = _offsets.GetValueOrDefault(name) + System.Text.Encoding.UTF8.GetByteCount(text[..(lastNewline + 1)]);
                foreach (var line in text[..lastNewline].Split('\n')) OnLine(name, line.TrimEnd('\r'));
            }
            catch (IOException) { }
        }
    }

    private void OnLine(string name, string line)
    {
        var now = _clock();
        if (line.Contains(": complete and verified", StringComparison.Ordinal) && Completed.TryAdd(name, now))
            _event(name, "leecher-complete", line.Length > 160 ? line[..160] : line);
        else if (line.StartsWith("registered as ", StringComparison.Ordinal))
        {
            Registrations.GetOrAdd(name, _ => []).Add(now);
            _event(name, "caller-registered", line);
        }
        else if (line.StartsWith("connected: ", StringComparison.Ordinal))
        {
            Connected.TryAdd(name, now);
            _event(name, "call-connected", line);
        }
        else if (line.StartsWith("{\"id\":", StringComparison.Ordinal))
        {
            try
            {
                var r = JsonDocument.Parse(line).RootElement;
                var report = new CallReport(r.GetProperty("id").GetString()!, r.GetProperty("role").GetString()!, r.GetProperty("result").GetString()!,
                    r.GetProperty("path").GetString() ?? "", r.GetProperty("pathChanges").GetInt32(), r.GetProperty("loss").GetDouble(),
                    r.GetProperty("framesReceived").GetInt32(), r.GetProperty("durationS").GetDouble(), now);
                Reports.Enqueue(report);
                _event(name, "call-report", line);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException) { _event(name, "call-report-unreadable", line); }
        }
    }

    /// <summary>SHA-256 of a file, hex; "" when it is missing.</summary>
    public static string Sha256(string path)
    {
        if (!File.Exists(path)) return "";
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    public string LeecherFile(string name) => Path.Combine(SwarmDirectory, name, "data.bin");

    public async Task StopWatching()
    {
        _stop.Cancel();
        try { await _watcher.WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
    }

    public void Dispose() => _stop.Dispose();
}
