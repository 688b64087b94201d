using System.Diagnostics.Metrics;

namespace Actors.Net.Telemetry;

/// <summary>
/// The connection figures every role shares, as System.Diagnostics.Metrics instruments (the .NET
/// API OpenTelemetry and dotnet-counters read). Actors record with one-line calls; the Lab's agent
/// reads every meter whose name starts with "Actors." through a MeterListener. Instruments are
/// process-wide: with several peers in one process (--count) they add up.
/// </summary>
public static class NetMetrics
{
    public const string MeterName = "Actors.Net";
    private static readonly Meter Meter = new(MeterName);

    /// <summary>Accepted TCP connections currently open (listeners built on <c>TcpServer</c>).</summary>
    public static readonly UpDownCounter<long> ConnectionsOpen =
        Meter.CreateUpDownCounter<long>("actors.net.connections.open", "{connection}", "TCP connections open");

    public static readonly Counter<long> ConnectionsAccepted =
        Meter.CreateCounter<long>("actors.net.connections.accepted", "{connection}", "TCP connections accepted");

    public static readonly Counter<long> BytesReceived =
        Meter.CreateCounter<long>("actors.net.bytes.received", "By", "bytes read from TCP connections");

    public static readonly Counter<long> BytesSent =
        Meter.CreateCounter<long>("actors.net.bytes.sent", "By", "bytes written to TCP connections");

    /// <summary>UDP datagrams dropped because a handler already had its bound waiting (<c>Udp.DatagramMailbox</c>).</summary>
    public static readonly Counter<long> DatagramsDropped =
        Meter.CreateCounter<long>("actors.net.udp.datagrams.dropped", "{datagram}", "UDP datagrams dropped: the handler's queue was full");
}
