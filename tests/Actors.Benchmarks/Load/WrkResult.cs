using System.Globalization;
using System.Text.RegularExpressions;

namespace Actors.Benchmarks.Load;

/// <summary>
/// What one wrk run reported. wrk prints its error counters only when they are non-zero, so an
/// absent line means zero. It counts HTTP status >= 400 as "Non-2xx or 3xx".
/// </summary>
public sealed partial record WrkResult(
    double RequestsPerSecond,
    long Requests,
    double LatencyAverageMs,
    long ConnectErrors,
    long ReadErrors,
    long WriteErrors,
    long Timeouts,
    long BadStatus)
{
    public long SocketErrors => ConnectErrors + ReadErrors + WriteErrors + Timeouts;

    public bool HasErrors => HasErrorsBeyond(toleratedReadErrors: 0);

    /// <summary>
    /// Errors, not counting up to <paramref name="toleratedReadErrors"/> read errors. A server
    /// that closes each connection after its answer without a `Connection: close` header (as
    /// opentracker does) costs wrk one read error per request; that is its protocol, not a fault.
    /// </summary>
    public bool HasErrorsBeyond(long toleratedReadErrors) =>
        ConnectErrors + WriteErrors + Timeouts > 0 || ReadErrors > toleratedReadErrors || BadStatus > 0;

    public string DescribeErrors() => HasErrors
        ? $"errors: connect {ConnectErrors}, read {ReadErrors}, write {WriteErrors}, timeout {Timeouts}, status>=400 {BadStatus}"
        : "no errors";

    /// <summary>Parses wrk's text report; null when the "Requests/sec:" line is missing.</summary>
    public static WrkResult? Parse(string output)
    {
        var rate = RequestsPerSecondLine().Match(output);
        if (!rate.Success)
        {
            return null;
        }
        var requests = RequestsLine().Match(output);
        var latency = LatencyLine().Match(output);
        var socket = SocketErrorsLine().Match(output);
        var status = BadStatusLine().Match(output);
        return new WrkResult(
            RequestsPerSecond: ParseDouble(rate.Groups[1].Value),
            Requests: requests.Success ? long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            LatencyAverageMs: latency.Success ? ToMilliseconds(ParseDouble(latency.Groups[1].Value), latency.Groups[2].Value) : double.NaN,
            ConnectErrors: socket.Success ? long.Parse(socket.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            ReadErrors: socket.Success ? long.Parse(socket.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            WriteErrors: socket.Success ? long.Parse(socket.Groups[3].Value, CultureInfo.InvariantCulture) : 0,
            Timeouts: socket.Success ? long.Parse(socket.Groups[4].Value, CultureInfo.InvariantCulture) : 0,
            BadStatus: status.Success ? long.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
    }

    /// <summary>
    /// Adds up runs made at the same time against different endpoints (e.g. the nodes of a
    /// cluster): rates and counts add; latency is weighted by requests.
    /// </summary>
    public static WrkResult Sum(IReadOnlyList<WrkResult> parts)
    {
        var requests = parts.Sum(p => p.Requests);
        return new WrkResult(
            parts.Sum(p => p.RequestsPerSecond),
            requests,
            requests == 0 ? double.NaN : parts.Sum(p => p.LatencyAverageMs * p.Requests) / requests,
            parts.Sum(p => p.ConnectErrors),
            parts.Sum(p => p.ReadErrors),
            parts.Sum(p => p.WriteErrors),
            parts.Sum(p => p.Timeouts),
            parts.Sum(p => p.BadStatus));
    }

    private static double ParseDouble(string text) => double.Parse(text, CultureInfo.InvariantCulture);

    private static double ToMilliseconds(double value, string unit) => unit switch
    {
        "us" => value / 1000,
        "ms" => value,
        "s" => value * 1000,
        "m" => value * 60_000,
        _ => double.NaN,
    };

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecondLine();

    [GeneratedRegex(@"(\d+) requests in ")]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"Latency\s+([0-9.]+)(us|ms|s|m)\b")]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex BadStatusLine();
}
