namespace Actors.Web.Http;

/// <summary>Limits the request decoder enforces; each one bounds how much a client can make us buffer.</summary>
/// <param name="MaxRequestLineBytes">Request line including its line ending; longer -> 414.</param>
/// <param name="MaxHeaderBytes">Header section including line endings and the blank line; longer -> 431.</param>
/// <param name="MaxHeaderCount">Number of header fields; more -> 431.</param>
/// <param name="MaxBodyBytes">Request body (Content-Length or decoded chunked total); larger -> 413.</param>
public sealed record HttpLimits(
    int MaxRequestLineBytes = 8 * 1024,
    int MaxHeaderBytes = 32 * 1024,
    int MaxHeaderCount = 100,
    long MaxBodyBytes = 1024 * 1024);

public enum HttpVersion { Http10, Http11 }

/// <summary>Why a message could not be decoded, as the status code to answer with.</summary>
public readonly record struct HttpError(int Status, string Reason);

public enum DecodeStatus
{
    NeedMore,
    Request,
    Error,

    /// <summary>Same value as <see cref="Request"/>; reads better at a response decoder's call site.</summary>
    Response = Request,
}
