namespace Actors.Web.Http;

/// <summary>A decoded response (for our HTTP client).</summary>
public sealed record HttpResponse(int Status, string Reason, HttpVersion Version, HttpHeaders Headers, byte[] Body)
{
    /// <summary>Whether the connection may carry another request. The decoder sets it false for bodies delimited by close.</summary>
    public bool KeepAlive { get; init; } = Headers.KeepAlive(Version);
}
