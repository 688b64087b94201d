using System.Net;
using System.Net.Sockets;

namespace Actors.Net.Tcp;

/// <summary>Small helpers for the endpoints every role prints, parses and compares.</summary>
public static class Endpoints
{
    /// <summary>An IP literal becomes an <see cref="IPEndPoint"/>; a name ("localhost") a <see cref="DnsEndPoint"/>.</summary>
    public static EndPoint Parse(string host, int port) =>
        IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);

    /// <summary>Parses "host:port" or "[v6]:port"; throws <see cref="FormatException"/> with the offending text.</summary>
    public static (string Host, int Port) ParseHostPort(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new FormatException($"'{text}' is not HOST:PORT");
        var host = text[..colon].Trim('[', ']');
        if (!int.TryParse(text[(colon + 1)..], out var port) || port is < 1 or > 65535)
            throw new FormatException($"'{text}' has no valid port (1-65535)");
        return (host, port);
    }

    /// <summary>.NET reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d; compare and print them as IPv4.</summary>
    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    public static string Format(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint ip when Normalize(ip.Address).AddressFamily == AddressFamily.InterNetworkV6 => $"[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"{Normalize(ip.Address)}:{ip.Port}",
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        null => "?",
        _ => endPoint.ToString() ?? "?",
    };
}
