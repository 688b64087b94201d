using System.Diagnostics.Metrics;

namespace Actors.Calls.Telemetry;

/// <summary>The rendezvous' and the relay's figures, recorded with one-line calls from their actors.</summary>
public static class CallsMetrics
{
    public const string MeterName = "Actors.Calls";
    private static readonly Meter Meter = new(MeterName);

    public static readonly UpDownCounter<long> RegisteredCallers =
        Meter.CreateUpDownCounter<long>("actors.rendezvous.callers", "{caller}", "callers registered at this rendezvous node");

    public static readonly Counter<long> Calls =
        Meter.CreateCounter<long>("actors.rendezvous.calls", "{call}", "call paths issued, by path (direct, reverse, relay)");

    public static readonly UpDownCounter<long> RelaySessions =
        Meter.CreateUpDownCounter<long>("actors.relay.sessions", "{session}", "relay sessions open");

    public static readonly Counter<long> RelayedBytes =
        Meter.CreateCounter<long>("actors.relay.bytes", "By", "bytes carried by the relay (both directions)");

    public static void PathIssued(object path) =>
        Calls.Add(1, new KeyValuePair<string, object?>("path", path.ToString()?.ToLowerInvariant()));
}
