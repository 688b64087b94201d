using Microsoft.Win32.SafeHandles;
using Actors.Web.Http;

namespace Actors.Web.Server;

/// <summary>
/// A part of a file to send as the body, read from disk chunk by chunk as the client takes it.
/// <paramref name="FileLength"/> and <paramref name="LastWriteUtc"/> are what the head was built
/// from (a stat by path, before the file is opened).
/// </summary>
public sealed record FileSlice(string Path, long Offset, long Length, long FileLength, DateTime LastWriteUtc)
{
    /// <summary>
    /// Whether an open file is still the one the head describes: a file renamed over or rewritten
    /// between the stat and the open has another length or time, and its bytes must not go out
    /// under the old head's Content-Length and ETag.
    /// </summary>
    public bool Describes(SafeFileHandle opened) =>
        RandomAccess.GetLength(opened) == FileLength && File.GetLastWriteTimeUtc(opened) == LastWriteUtc;
}

/// <summary>
/// What to answer: the status and headers, plus either a small in-memory body or a file slice.
/// The connection adds the per-connection headers (Date, Server, Connection) before encoding.
/// <paramref name="SendBody"/> is false for HEAD and for bodiless statuses: the headers still
/// describe the representation (Content-Length) as RFC 9110 §9.3.2 asks.
/// </summary>
public sealed record ResponsePlan(HttpResponseHead Head, int Status, ReadOnlyMemory<byte> Body, FileSlice? File, bool SendBody)
{
    public long BodyLength => File?.Length ?? Body.Length;

    public static ResponsePlan Text(int status, string text, bool sendBody = true) =>
        Bytes(status, "text/plain; charset=utf-8", System.Text.Encoding.UTF8.GetBytes(text), sendBody);

    public static ResponsePlan Bytes(int status, string contentType, ReadOnlyMemory<byte> body, bool sendBody = true) =>
        new(new HttpResponseHead(status)
                .Header("Content-Type", contentType)
                .Header("Content-Length", body.Length.ToString()),
            status, body, null, sendBody);

    /// <summary>The standard short error body: "404 Not Found".</summary>
    public static ResponsePlan Error(int status, bool sendBody = true) =>
        Text(status, $"{status} {HttpStatus.ReasonPhrase(status)}\n", sendBody);
}
