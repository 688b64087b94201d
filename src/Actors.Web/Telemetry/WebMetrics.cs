using System.Diagnostics.Metrics;

namespace Actors.Web.Telemetry;

/// <summary>The HTTP server's figures (every role that serves HTTP: web, tracker, lab).</summary>
public static class WebMetrics
{
    public const string MeterName = "Actors.Web";
    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Requests =
        Meter.CreateCounter<long>("actors.web.requests", "{request}", "HTTP requests answered, by status class");

    public static readonly Counter<long> FileCacheHits =
        Meter.CreateCounter<long>("actors.web.file_cache.hits", "{request}", "static file requests answered from memory (Server/FileCache.cs)");

    private static readonly string[] Classes = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    public static void Answered(int status) =>
        Requests.Add(1, new KeyValuePair<string, object?>("code", status is >= 100 and < 600 ? Classes[status / 100 - 1] : "other"));
}
