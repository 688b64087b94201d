using System.Text.Json;
using Actors.Lab.Agent;

namespace Actors.Lab.Api;

/// <summary>Reads the body of POST /api/report; bad JSON or a report beyond the caps is an ArgumentException (400).</summary>
public static class ProcessReportParser
{
    public const int MaxTorrents = 200, MaxExchanges = 200, MaxCalls = 50, MaxFigures = 2000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ProcessReport Parse(byte[] body)
    {
        ProcessReport? report;
        try { report = JsonSerializer.Deserialize<ProcessReport>(body, Json); }
        catch (JsonException ex) { throw new ArgumentException($"the report is not valid JSON: {ex.Message}"); }
        if (report is null || string.IsNullOrWhiteSpace(report.Node) || report.Node.Length > 100)
            throw new ArgumentException("a report needs a node name (at most 100 characters)");
        if ((report.Figures?.Count ?? 0) > MaxFigures || (report.Torrents?.Count ?? 0) > MaxTorrents || (report.Calls?.Count ?? 0) > MaxCalls
            || (report.Torrents ?? []).Any(t => (t.Exchanges?.Count ?? 0) > MaxExchanges))
            throw new ArgumentException($"a report holds at most {MaxFigures} figures, {MaxTorrents} torrents of {MaxExchanges} exchanges, {MaxCalls} calls");
        return report with
        {
            Roles = report.Roles ?? [],
            Figures = report.Figures ?? [],
            Torrents = (report.Torrents ?? []).Select(t => t with { Exchanges = t.Exchanges ?? [] }).ToList(),
            Calls = report.Calls ?? [],
        };
    }
}
