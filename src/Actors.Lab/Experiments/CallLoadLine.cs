using System.Text.Json;
using System.Text.Json.Serialization;

namespace Actors.Lab.Experiments;

/// <summary>
/// One line of <c>actors caller load</c>'s output, one per step, read by the calls sweep
/// (<see cref="CallsExperiment"/>): the step's concurrent calls, how long setting them up took, the
/// direct baseline's and the relayed load's one-way latency (ms; null when no frame arrived) and
/// frames, and when the relayed load was measured (Unix ms); or <see cref="Error"/> when the calls
/// could not be set up. The writer (the Host) and the reader (the Lab) share this one type.
/// </summary>
public sealed record CallLoadLine(int Calls, double SetupSeconds, CallLoadLine.Latency? Direct, CallLoadLine.Latency? Relayed,
    long MeasuredFromUnixMs, long MeasuredToUnixMs, string? Error = null)
{
    public sealed record Latency(double? P50Ms, double? P99Ms, double? MaxMs, long Sent, long Received)
    {
        public long Lost => Math.Max(0, Sent - Received);

        public static Latency Of(double p50, double p99, double max, long sent, long received) =>
            new(Finite(p50), Finite(p99), Finite(max), sent, received);

        private static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 3) : null;
    }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The line's step, or null when the line is something else (a log line).</summary>
    public static CallLoadLine? Parse(string line)
    {
        if (!line.StartsWith("{\"calls\":", StringComparison.Ordinal)) return null;
        try { return JsonSerializer.Deserialize<CallLoadLine>(line, Json); }
        catch (JsonException) { return null; }
    }
}
