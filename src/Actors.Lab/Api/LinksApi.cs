using System.Text.Json;
using Actors.Lab.Links;
using Actors.Web.Server;

namespace Actors.Lab.Api;

/// <summary>
/// The application-link part of the API: JSON bodies in, the link proxy's messages out, its
/// answers as JSON. Pure functions, so the API actor stays a router.
/// </summary>
public static class LinksApi
{
    /// <summary>A link as the API and the dashboard show it.</summary>
    public static object Json(LinkStatus s) => new
    {
        name = s.Name,
        listen = s.Listen,
        target = s.Target,
        toxics = s.Toxics.Select(t => new
        {
            name = t.Name, type = t.Kind.Type, stream = Toxic.StreamName(t.Stream), toxicity = t.Toxicity, attributes = t.Kind.Attributes,
        }),
        openConnections = s.OpenConnections,
        acceptedConnections = s.AcceptedConnections,
        bytesUpstream = s.BytesUpstream,
        bytesDownstream = s.BytesDownstream,
        bufferedBytes = s.BufferedBytes,
        down = s.IsDown,
    };

    public static HttpReply Reply(object answer) => answer switch
    {
        LinkList list => LabApi.Json(200, new { links = list.Links.Select(Json) }),
        LinkStatus status => LabApi.Json(200, new { ok = true, message = $"link {status.Name}: {status.Listen} → {status.Target}, toxics: {(status.Toxics.Count == 0 ? "none" : string.Join(", ", status.Toxics.Select(t => t.Name)))}", link = Json(status) }),
        LinkRemoved removed => LabApi.Json(200, new { ok = true, message = $"link {removed.Name} removed" }),
        LinkError error => LabApi.Error(error.Reason.Contains("no link", StringComparison.OrdinalIgnoreCase) ? 404 : 400, $"{error.Name}: {error.Reason}"),
        _ => LabApi.Error(500, "unexpected answer from the link proxy"),
    };

    /// <summary><c>{"name","listen","upstream"|"target"}</c> → <see cref="AddLink"/>.</summary>
    public static AddLink ParseAdd(byte[] body)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        return new AddLink(Text(root, "name") ?? throw new ArgumentException("a link needs a name"),
            Text(root, "listen") ?? throw new ArgumentException("a link needs listen HOST:PORT"),
            Text(root, "upstream") ?? Text(root, "target") ?? throw new ArgumentException("a link needs upstream HOST:PORT"));
    }

    /// <summary>
    /// <c>{"type","direction"|"stream":"upstream|downstream|both","attributes":{"latency":"300"},"toxicity","name"}</c>
    /// → one toxic per stream ("both": two, named by Toxiproxy's default names).
    /// </summary>
    public static IReadOnlyList<Toxic> ParseToxics(byte[] body)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        var type = Text(root, "type") ?? throw new ArgumentException("a toxic needs a type (latency, bandwidth, slicer, timeout, reset_peer, limit_data, down)");
        var direction = Text(root, "direction") ?? Text(root, "stream") ?? "both";
        var attributes = new Dictionary<string, long>(StringComparer.Ordinal);
        if (root.TryGetProperty("attributes", out var attrs) && attrs.ValueKind == JsonValueKind.Object)
            foreach (var a in attrs.EnumerateObject())
                attributes[a.Name] = a.Value.ValueKind == JsonValueKind.Number ? a.Value.GetInt64()
                    : long.TryParse(a.Value.GetString(), out var n) ? n : throw new ArgumentException($"attribute {a.Name} must be a whole number");
        var toxicity = root.TryGetProperty("toxicity", out var tx) && tx.ValueKind == JsonValueKind.Number ? tx.GetDouble() : 1.0;
        var name = Text(root, "name");
        var streams = direction.Trim().ToLowerInvariant() == "both" ? new[] { "upstream", "downstream" } : [direction];
        return streams.Select(s => Toxic.Create(type, s, attributes, toxicity, streams.Length > 1 || name is null ? null : name)).ToList();
    }

    private static JsonDocument Parse(byte[] body)
    {
        try { return JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body); }
        catch (JsonException ex) { throw new ArgumentException($"the body is not JSON: {ex.Message}"); }
    }

    private static string? Text(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
