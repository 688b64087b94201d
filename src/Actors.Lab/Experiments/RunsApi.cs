using System.Text.Json;
using Actors.Web.Server;

namespace Actors.Lab.Experiments;

/// <summary>
/// The dashboard's view of past experiment runs: <c>GET /api/runs</c> lists the bundles under the
/// runs folder (actors.lab.runs, default lab-runs), newest first — scenario runs and the swarm and
/// calls sweeps alike — each with its kind, its report's verdict and plots; <c>GET /api/runs/SCENARIO/STAMP/FILE</c> serves a bundle's report or plot. Only
/// plain names (letters, digits, '.', '-', '_') are accepted, so nothing outside the folder is read.
/// Called off the actor's thread (file reads), its answer piped back.
/// </summary>
public static class RunsApi
{
    public const int MaxRuns = 50;

    public static HttpReply Reply(string root, string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is ["api", "runs"]) return List(root);
        if (segments is ["api", "runs", var scenario, var stamp, var file] && new[] { scenario, stamp, file }.All(Plain))
        {
            var full = Path.Combine(root, scenario, stamp, file);
            var type = Path.GetExtension(file) switch
            {
                ".png" => "image/png",
                ".md" or ".sh" or ".conf" or ".csv" or ".jsonl" => "text/plain; charset=utf-8",
                ".json" => "application/json",
                _ => null,
            };
            if (type is null || !File.Exists(full)) return Api.LabApi.Error(404, $"no such file in the runs: {scenario}/{stamp}/{file}");
            return new HttpReply(200, type, File.ReadAllBytes(full), [new("Cache-Control", "no-cache")]);
        }
        return Api.LabApi.Error(404, "GET /api/runs or /api/runs/SCENARIO/STAMP/FILE");
    }

    private static bool Plain(string segment) =>
        segment.Length is > 0 and <= 128 && segment != "." && segment != ".." && segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    private static HttpReply List(string root)
    {
        var runs = new List<object>();
        if (Directory.Exists(root))
        {
            var bundles = Directory.EnumerateDirectories(root).SelectMany(Directory.EnumerateDirectories)
                .Where(d => File.Exists(Path.Combine(d, "report.json")))
                .OrderByDescending(d => Path.GetFileName(d), StringComparer.Ordinal).Take(MaxRuns);
            foreach (var dir in bundles)
            {
                try
                {
                    using var report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "report.json")));
                    var r = report.RootElement;
                    runs.Add(new
                    {
                        scenario = Path.GetFileName(Path.GetDirectoryName(dir)),
                        stamp = Path.GetFileName(dir),
                        // A scenario run, or a sweep (swarm, calls): the same report.json keys.
                        kind = r.TryGetProperty("kind", out var kind) ? kind.GetString() : "scenario",
                        passed = r.GetProperty("passed").GetBoolean(),
                        seed = r.GetProperty("seed").GetInt32(),
                        failed = r.GetProperty("failed").EnumerateArray().Select(f => f.GetString()).ToList(),
                        plots = r.GetProperty("plots").EnumerateArray().Select(p => p.GetString()).ToList(),
                    });
                }
                catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException) { }
            }
        }
        return Api.LabApi.Json(200, new { root = Path.GetFullPath(root), runs });
    }
}
