using Actors.Web.Http;

namespace Actors.Web.Client;

/// <summary>Ask the <see cref="HttpClientActor"/> to GET a URL; it answers the sender with one of the two below.</summary>
public sealed record HttpGet(Uri Url, TimeSpan? Timeout = null);

/// <summary>The final response (after at most <see cref="HttpClientActor.MaxRedirects"/> redirects), whatever its status.</summary>
public sealed record HttpGetSucceeded(Uri Url, HttpResponse Response);

/// <summary>No response: bad URL, connection refused, timeout, malformed or oversized response, redirect loop.</summary>
public sealed record HttpGetFailed(Uri Url, string Reason);

/// <summary>Connection pool counters, for tests and status pages.</summary>
public sealed record HttpClientStats(long ConnectionsOpened, int IdleConnections);

public sealed class GetHttpClientStats
{
    public static readonly GetHttpClientStats Instance = new();
    private GetHttpClientStats() { }
}
