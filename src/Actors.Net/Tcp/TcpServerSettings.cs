using System.Net;

namespace Actors.Net.Tcp;

/// <summary>Where a <see cref="TcpServer"/> listens and how many connections it carries at once.</summary>
public sealed record TcpServerSettings(string Host, int Port, int MaxConnections = 10_000, int Backlog = 1024)
{
    public EndPoint EndPoint => Endpoints.Parse(Host, Port);
}
