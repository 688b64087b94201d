using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Actors.Host.Roles;

/// <summary>
/// The <c>actors lab ...</c> client commands: HTTP calls to a running lab's API. Exit codes:
/// 0 done, 1 the lab refused or failed (its reason printed), 3 the lab cannot be reached.
/// </summary>
public sealed class LabClient(Uri lab, string? token)
{
    public const string DefaultUrl = "http://127.0.0.1:7070/";

    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>
    /// What the commands print (status, events, answers) goes to the real standard output, whatever
    /// Console.Out was pointed at: scripts read it (status --json); logs and errors go to stderr.
    /// </summary>
    public static readonly TextWriter Out = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };

    /// <summary>--lab, else .cluster/lab.url (run-cluster writes it), else the default port. --token, else $ACTORS_LAB_TOKEN, else .cluster/lab.token.</summary>
    public static LabClient Create(string? url, string? token)
    {
        url ??= ReadFile(".cluster/lab.url") ?? DefaultUrl;
        if (!url.EndsWith('/')) url += "/";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http")
            throw new Cli.UsageException($"--lab: '{url}' is not an http:// URL");
        token ??= Environment.GetEnvironmentVariable("ACTORS_LAB_TOKEN") is { Length: > 0 } t ? t : ReadFile(".cluster/lab.token");
        return new LabClient(uri, token);
    }

    private static string? ReadFile(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    public async Task<int> Status(bool json, CancellationToken cancel)
    {
        var (code, body) = await Send(HttpMethod.Get, "api/status", null, cancel);
        if (code != 200) return Fail(code, body);
        if (json) { Out.WriteLine(body); return 0; }
        using var doc = JsonDocument.Parse(body);
        Out.WriteLine($"{"NODE",-12} {"ROLES",-12} {"STATUS",-12} {"ADDRESS",-34} {"PID",-8} {"UPTIME",-9} {"CONN",-5} {"IN/s",-10} {"OUT/s",-10}");
        foreach (var node in doc.RootElement.GetProperty("nodes").EnumerateArray())
        {
            var roles = string.Join(",", node.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
            var leader = node.GetProperty("leader").GetBoolean() ? " (leader)" : "";
            var uptime = node.GetProperty("uptimeSeconds").ValueKind == JsonValueKind.Number ? $"{node.GetProperty("uptimeSeconds").GetDouble():0}s" : "-";
            var pid = node.GetProperty("pid").ValueKind == JsonValueKind.Number ? node.GetProperty("pid").GetInt32().ToString() : "-";
            Out.WriteLine($"{node.GetProperty("name").GetString(),-12} {roles,-12} {node.GetProperty("status").GetString() + leader,-12} " +
                $"{node.GetProperty("address").GetString(),-34} {pid,-8} {uptime,-9} {Figure(node, "actors.net.connections.open", false),-5} " +
                $"{Figure(node, "actors.net.bytes.received", true),-10} {Figure(node, "actors.net.bytes.sent", true),-10}");
        }
        return 0;
    }

    private static string Figure(JsonElement node, string name, bool rate)
    {
        foreach (var figure in node.GetProperty("figures").EnumerateArray())
        {
            if (figure.GetProperty("name").GetString() != name) continue;
            var value = rate ? figure.GetProperty("rate") : figure.GetProperty("value");
            return value.ValueKind == JsonValueKind.Number ? Bytes(value.GetDouble(), rate) : "-";
        }
        return "-";
    }

    private static string Bytes(double value, bool isRate) => !isRate ? value.ToString("0") :
        value >= 1 << 20 ? $"{value / (1 << 20):0.0}M" : value >= 1 << 10 ? $"{value / (1 << 10):0.0}K" : $"{value:0}";

    public async Task<int> Tail(int backlog, bool follow, CancellationToken cancel)
    {
        if (!follow)
        {
            var (code, body) = await Send(HttpMethod.Get, $"api/events/recent?n={Math.Max(1, backlog)}", null, cancel);
            if (code != 200) return Fail(code, body);
            foreach (var e in JsonDocument.Parse(body).RootElement.EnumerateArray()) PrintEvent(e);
            return 0;
        }
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(lab, $"api/events?status=off&backlog={Math.Max(0, backlog)}"));
            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
            if (response.StatusCode != HttpStatusCode.OK) return Fail((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancel));
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel), Encoding.UTF8);
            while (await reader.ReadLineAsync(cancel) is { } line)
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                    PrintEvent(JsonDocument.Parse(line[6..]).RootElement);
            Console.Error.WriteLine("actors lab: the lab closed the event stream");
            return 1;
        }
        catch (OperationCanceledException) { return 0; }
        catch (HttpRequestException ex) { return Unreachable(ex); }
    }

    private static void PrintEvent(JsonElement e)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(e.GetProperty("unixMs").GetInt64()).ToLocalTime();
        Out.WriteLine($"{time:HH:mm:ss.fff} {e.GetProperty("node").GetString(),-12} {e.GetProperty("kind").GetString(),-20} {e.GetProperty("text").GetString()}");
    }

    public async Task<int> Get(string path, CancellationToken cancel)
    {
        var (code, body) = await Send(HttpMethod.Get, path, null, cancel);
        if (code != 200) return Fail(code, body);
        Out.WriteLine(body);
        return 0;
    }

    public async Task<int> Post(string path, object? payload, CancellationToken cancel)
    {
        var (code, body) = await Send(HttpMethod.Post, path, payload, cancel);
        if (code is < 200 or >= 300) return Fail(code, body);
        Out.WriteLine(Message(body) ?? body);
        return 0;
    }

    /// <summary>Restart, then (unless --no-wait) wait up to 90 s for the node to be up again.</summary>
    public async Task<int> Restart(string name, bool wait, CancellationToken cancel)
    {
        var result = await Post($"api/nodes/{Uri.EscapeDataString(name)}/restart", null, cancel);
        if (result != 0 || !wait) return result;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var seenDown = false;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, cancel);
            var (code, body) = await Send(HttpMethod.Get, "api/status", null, cancel);
            if (code != 200) continue;
            var node = JsonDocument.Parse(body).RootElement.GetProperty("nodes").EnumerateArray()
                .FirstOrDefault(n => n.GetProperty("name").GetString() == name);
            if (node.ValueKind != JsonValueKind.Object) continue;
            var status = node.GetProperty("status").GetString();
            // "up" only counts once the old process was seen gone (or a new one is joining).
            if (status != "up") seenDown = true;
            else if (seenDown) { Out.WriteLine($"{name} is up"); return 0; }
        }
        Console.Error.WriteLine($"actors lab: {name} was not up again within 90 s");
        return 1;
    }

    private async Task<(int Code, string Body)> Send(HttpMethod method, string path, object? payload, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, new Uri(lab, path));
        if (token is { Length: > 0 }) request.Headers.Add("X-Lab-Token", token);
        request.Content = method == HttpMethod.Post ? (payload is null ? new ByteArrayContent([]) : JsonContent.Create(payload)) : null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        try
        {
            using var response = await Http.SendAsync(request, timeout.Token);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw new LabUnreachableException($"cannot reach the lab at {lab}: {ex.Message}");
        }
    }

    private static string? Message(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("message", out var m) ? m.GetString()
                : doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() : null;
        }
        catch (JsonException) { return null; }
    }

    private static int Fail(int code, string body)
    {
        Console.Error.WriteLine($"actors lab: {code}: {Message(body) ?? body}");
        return 1;
    }

    private int Unreachable(Exception ex)
    {
        Console.Error.WriteLine($"actors lab: cannot reach the lab at {lab}: {ex.Message}");
        return 3;
    }
}

/// <summary>The lab did not answer (not running, wrong --lab): exit code 3.</summary>
public sealed class LabUnreachableException(string message) : Exception(message);
