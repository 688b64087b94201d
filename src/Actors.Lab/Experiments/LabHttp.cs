using System.Net.Http.Json;
using System.Text.Json;

namespace Actors.Lab.Experiments;

/// <summary>The experiment runner's client of the lab's HTTP API (faults, status, events): the same API the CLI and dashboard use.</summary>
public sealed class LabHttp(Uri lab, string token) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(15) };

    public Uri Url => lab;

    /// <summary>POST with the token; the lab's answer or an error text (never throws for a refused fault: the run records it).</summary>
    public async Task<(bool Ok, string Answer)> Post(string path, object? payload)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(lab, path));
        request.Headers.Add("X-Lab-Token", token);
        request.Content = payload is null ? new ByteArrayContent([]) : JsonContent.Create(payload);
        try
        {
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return (response.IsSuccessStatusCode, body.Trim());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { return (false, ex.Message); }
    }

    public async Task<JsonDocument?> Get(string path)
    {
        try { return JsonDocument.Parse(await _http.GetStringAsync(new Uri(lab, path))); }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException) { return null; }
    }

    /// <summary>The lab's action for one fault step.</summary>
    public Task<(bool Ok, string Answer)> Apply(FaultStep step) => step.Action switch
    {
        "kill" => Post($"api/nodes/{Uri.EscapeDataString(step.Target)}/kill?signal=KILL", null),
        "pause" => Post($"api/nodes/{Uri.EscapeDataString(step.Target)}/kill?signal=STOP", null),
        "resume" => Post($"api/nodes/{Uri.EscapeDataString(step.Target)}/kill?signal=CONT", null),
        "terminate" => Post($"api/nodes/{Uri.EscapeDataString(step.Target)}/kill?signal=TERM", null),
        "restart" => Post($"api/nodes/{Uri.EscapeDataString(step.Target)}/restart", null),
        "partition" => Post("api/partition", new { spec = step.Target, oneWay = step.Attributes.TryGetValue("one-way", out var w) && w is "true" or "on" }),
        "heal" => Post("api/heal", null),
        "toxic" => Post($"api/links/{Uri.EscapeDataString(step.Target)}/toxics", new
        {
            type = step.Attributes["type"],
            direction = step.Attributes.GetValueOrDefault("direction", "both"),
            attributes = step.Attributes.Where(a => a.Key is not ("type" or "direction")).ToDictionary(a => a.Key, a => a.Value),
        }),
        "clear" => Post($"api/links/{Uri.EscapeDataString(step.Target)}/clear", null),
        _ => Task.FromResult((false, $"unknown action {step.Action}")),
    };

    public void Dispose() => _http.Dispose();
}
