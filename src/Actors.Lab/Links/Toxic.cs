using System.Globalization;

namespace Actors.Lab.Links;

/// <summary>Which way a toxic acts, in Toxiproxy's terms.</summary>
public enum ToxicStream
{
    /// <summary>Client → target: what the connecting side sends.</summary>
    Upstream,
    /// <summary>Target → client: what the proxied service answers.</summary>
    Downstream,
}

/// <summary>
/// What a toxic does, with Toxiproxy's type names and attributes (<see cref="Type"/>,
/// <see cref="Attributes"/>). Durations are in Toxiproxy's units: milliseconds, except the
/// slicer's delay in microseconds; rates in KB/s with 1 KB = 1000 bytes.
/// </summary>
public abstract record ToxicKind
{
    private ToxicKind() { }

    /// <summary>Toxiproxy's type name: latency, bandwidth, slicer, timeout, reset_peer, limit_data, down.</summary>
    public abstract string Type { get; }

    /// <summary>Toxiproxy's attribute names and values, for printing and JSON.</summary>
    public abstract IReadOnlyDictionary<string, long> Attributes { get; }

    /// <summary>Delays every chunk by <paramref name="LatencyMs"/> ± a uniform draw in [-<paramref name="JitterMs"/>, +<paramref name="JitterMs"/>]; order is kept.</summary>
    public sealed record Latency(int LatencyMs, int JitterMs = 0) : ToxicKind
    {
        public override string Type => "latency";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long> { ["latency"] = LatencyMs, ["jitter"] = JitterMs };
    }

    /// <summary>Caps the rate at <paramref name="RateKBps"/> KB/s (1 KB = 1000 bytes).</summary>
    public sealed record Bandwidth(long RateKBps) : ToxicKind
    {
        public override string Type => "bandwidth";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long> { ["rate"] = RateKBps };
    }

    /// <summary>Cuts data into slices of <paramref name="AverageSize"/> ± <paramref name="SizeVariation"/> bytes, <paramref name="DelayMicros"/> µs apart.</summary>
    public sealed record Slicer(int AverageSize, int SizeVariation = 0, int DelayMicros = 0) : ToxicKind
    {
        public override string Type => "slicer";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long> { ["average_size"] = AverageSize, ["size_variation"] = SizeVariation, ["delay"] = DelayMicros };
    }

    /// <summary>
    /// Stall ("timeout" in Toxiproxy): no data passes; the proxy stops reading, so the sender is
    /// back-pressured (nothing is dropped, unlike Toxiproxy). After <paramref name="TimeoutMs"/> ms
    /// (when &gt; 0) the connection is closed; with 0 it stalls until the toxic is removed.
    /// </summary>
    public sealed record Timeout(int TimeoutMs = 0) : ToxicKind
    {
        public override string Type => "timeout";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long> { ["timeout"] = TimeoutMs };
    }

    /// <summary>Resets both sockets (TCP RST) <paramref name="TimeoutMs"/> ms after the toxic reaches the connection.</summary>
    public sealed record ResetPeer(int TimeoutMs = 0) : ToxicKind
    {
        public override string Type => "reset_peer";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long> { ["timeout"] = TimeoutMs };
    }

    /// <summary>Lets exactly <paramref name="Bytes"/> more bytes through (counted from when the toxic reaches the connection), then closes it.</summary>
    public sealed record LimitData(long Bytes) : ToxicKind
    {
        public override string Type => "limit_data";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long> { ["bytes"] = Bytes };
    }

    /// <summary>The link is down: open connections are reset and new ones are reset as soon as accepted. Acts on both directions.</summary>
    public sealed record Down : ToxicKind
    {
        public static readonly Down Instance = new();
        private Down() { }
        public override string Type => "down";
        public override IReadOnlyDictionary<string, long> Attributes => new Dictionary<string, long>();
    }

    /// <summary>Every type name <see cref="Parse"/> accepts (Toxiproxy's, plus our aliases stall, reset, limit-data).</summary>
    public static readonly IReadOnlyList<string> TypeNames = ["latency", "bandwidth", "slicer", "timeout", "stall", "reset_peer", "reset", "limit_data", "limit-data", "down"];

    /// <summary>
    /// Builds a toxic from Toxiproxy's type name and attributes (missing attributes take Toxiproxy's
    /// defaults where it has one). Throws <see cref="ArgumentException"/> naming the bad type or attribute.
    /// </summary>
    public static ToxicKind Parse(string type, IReadOnlyDictionary<string, long>? attributes = null)
    {
        attributes ??= new Dictionary<string, long>();
        long Get(string name, long? fallback, long min, long max)
        {
            if (!attributes.TryGetValue(name, out var value))
                value = fallback ?? throw new ArgumentException($"toxic {type}: attribute '{name}' is required");
            if (value < min || value > max)
                throw new ArgumentException($"toxic {type}: attribute '{name}' must be between {min} and {max}, got {value}");
            return value;
        }
        void OnlyKnown(params string[] known)
        {
            foreach (var name in attributes.Keys)
                if (!known.Contains(name))
                    throw new ArgumentException($"toxic {type}: unknown attribute '{name}' (known: {string.Join(", ", known)})");
        }
        const int hour = 3_600_000;
        switch (type.Trim().ToLowerInvariant())
        {
            case "latency":
                OnlyKnown("latency", "jitter");
                return new Latency((int)Get("latency", 0, 0, hour), (int)Get("jitter", 0, 0, hour));
            case "bandwidth":
                OnlyKnown("rate");
                return new Bandwidth(Get("rate", null, 1, 10_000_000));
            case "slicer":
                OnlyKnown("average_size", "size_variation", "delay");
                var average = (int)Get("average_size", null, 1, 16 * 1024 * 1024);
                return new Slicer(average, (int)Get("size_variation", 0, 0, average - 1 < 0 ? 0 : average - 1), (int)Get("delay", 0, 0, 60_000_000));
            case "timeout" or "stall":
                OnlyKnown("timeout");
                return new Timeout((int)Get("timeout", 0, 0, hour));
            case "reset_peer" or "reset":
                OnlyKnown("timeout");
                return new ResetPeer((int)Get("timeout", 0, 0, hour));
            case "limit_data" or "limit-data":
                OnlyKnown("bytes");
                return new LimitData(Get("bytes", null, 0, long.MaxValue));
            case "down":
                OnlyKnown();
                return Down.Instance;
            default:
                throw new ArgumentException($"unknown toxic type '{type}' (known: {string.Join(", ", TypeNames)})");
        }
    }
}

/// <summary>
/// One toxic on a link: a name unique on its link, the direction it acts on, what it does, and its
/// toxicity — the probability (0..1) that it applies to a given connection, drawn once per
/// connection when the toxic reaches it (Toxiproxy's meaning).
/// </summary>
public sealed record Toxic(string Name, ToxicStream Stream, ToxicKind Kind, double Toxicity = 1.0)
{
    /// <summary>Toxiproxy's default name: "{type}_{stream}", e.g. latency_downstream.</summary>
    public static string DefaultName(ToxicKind kind, ToxicStream stream) =>
        $"{kind.Type}_{StreamName(stream)}";

    public static string StreamName(ToxicStream stream) => stream == ToxicStream.Upstream ? "upstream" : "downstream";

    /// <summary>Parses "upstream"/"downstream" (also "up"/"down"); throws <see cref="ArgumentException"/> otherwise.</summary>
    public static ToxicStream ParseStream(string text) => text.Trim().ToLowerInvariant() switch
    {
        "upstream" or "up" => ToxicStream.Upstream,
        "downstream" or "down" => ToxicStream.Downstream,
        _ => throw new ArgumentException($"stream must be upstream or downstream, got '{text}'"),
    };

    /// <summary>
    /// Builds a toxic the way Toxiproxy's API does: type, stream, attributes, toxicity (default 1),
    /// name (default "{type}_{stream}"). Throws <see cref="ArgumentException"/> with a clear message.
    /// </summary>
    public static Toxic Create(string type, string stream, IReadOnlyDictionary<string, long>? attributes = null, double toxicity = 1.0, string? name = null)
    {
        var kind = ToxicKind.Parse(type, attributes);
        var direction = ParseStream(stream);
        if (double.IsNaN(toxicity) || toxicity < 0 || toxicity > 1)
            throw new ArgumentException($"toxicity must be between 0 and 1, got {toxicity.ToString(CultureInfo.InvariantCulture)}");
        name = string.IsNullOrWhiteSpace(name) ? DefaultName(kind, direction) : name.Trim();
        return new Toxic(name, direction, kind, toxicity);
    }

    public override string ToString() =>
        $"{Name}: {Kind.Type} {StreamName(Stream)} {string.Join(" ", Kind.Attributes.Select(a => $"{a.Key}={a.Value}"))} toxicity={Toxicity.ToString(CultureInfo.InvariantCulture)}";
}
