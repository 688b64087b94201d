namespace Actors.Torrent.Peer.Announce;

/// <summary>
/// The one thing the peer needs from HTTP: GET a URL and get the body of a 200 back. Announces
/// and .torrent downloads go through it, so the transport can be swapped (our HTTP client
/// actor, or <see cref="SystemHttpGetter"/> until it is available).
/// </summary>
public interface IHttpGetter
{
    /// <exception cref="HttpGetException">No 200 response within the timeout.</exception>
    Task<byte[]> GetAsync(Uri url, TimeSpan timeout, CancellationToken cancel = default);
}

public sealed class HttpGetException(string message) : Exception(message);

/// <summary>
/// Stop-gap transport on System.Net.Http, used until the Actors.Web HTTP client actor lands;
/// then an adapter that sends <c>HttpGet</c> to that actor replaces it (one line at the call site).
/// </summary>
public sealed class SystemHttpGetter : IHttpGetter
{
    private const int MaxBody = 32 * 1024 * 1024;
    private static readonly HttpClient Client = new(new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 5 })
    {
        Timeout = Timeout.InfiniteTimeSpan,
        MaxResponseContentBufferSize = MaxBody,
    };

    public static readonly SystemHttpGetter Instance = new();

    public async Task<byte[]> GetAsync(Uri url, TimeSpan timeout, CancellationToken cancel = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(timeout);
        try
        {
            using var response = await Client.GetAsync(url, cts.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
            // A tracker's failure reason may come with 400 (opentracker): let the caller read it.
            if (!response.IsSuccessStatusCode && !(body.Length > 0 && body[0] == (byte)'d'))
                throw new HttpGetException($"{url.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode}");
            return body;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            throw new HttpGetException($"{url.GetLeftPart(UriPartial.Path)}: {(ex is OperationCanceledException ? "timed out" : ex.Message)}");
        }
    }
}
