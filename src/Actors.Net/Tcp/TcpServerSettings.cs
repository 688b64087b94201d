using System.Net;

namespace Actors.Net.Tcp;

/// <summary>Where a <see cref="TcpServer"/> listens and how many connections it carries at once.</summary>
/// <param name="PullMode">Accepted connections start paused and deliver one <c>Received</c> per <c>ResumeReading</c>
/// (for handlers that must bound what they read, like a relay).</param>
public sealed record TcpServerSettings(string Host, int Port, int MaxConnections = 10_000, int Backlog = 1024, bool PullMode = false)
{
    public EndPoint EndPoint => Endpoints.Parse(Host, Port);
}
