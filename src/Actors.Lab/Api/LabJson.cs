using System.Text.Json;

namespace Actors.Lab.Api;

/// <summary>The API's JSON: camelCase names, as the dashboard and <c>actors lab status --json</c> read them.</summary>
public static class LabJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
    };

    public static byte[] Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);
    public static string Text<T>(T value) => JsonSerializer.Serialize(value, Options);
}
