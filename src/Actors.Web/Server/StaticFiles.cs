using System.Globalization;
using System.Net;
using System.Text;
using Actors.Web.Http;

namespace Actors.Web.Server;

/// <summary>
/// Decides how to answer a GET or HEAD for a file under the document root: 200, 206, 304, 301 to
/// the slash form of a directory, 404, 416, and the method errors (405 with Allow, 501). Pure apart
/// from reading file metadata, so it is tested without sockets. Without a root (a node that only
/// serves routes, like a tracker) every file is 404. Small files come from the <see cref="FileCache"/>
/// when one is given.
/// </summary>
public sealed class StaticFiles(DocumentRoot? root, bool directoryListing, FileCache? cache = null)
{
    private static readonly HashSet<string> KnownMethods =
        ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

    public const string Allow = "GET, HEAD, OPTIONS";

    public ResponsePlan Plan(HttpRequest request)
    {
        var sendBody = request.Method != "HEAD";
        switch (request.Method)
        {
            case "GET" or "HEAD":
                break;
            case "OPTIONS":
                return new ResponsePlan(new HttpResponseHead(204).Header("Allow", Allow), 204, default, null, false);
            case var m when KnownMethods.Contains(m):
                var notAllowed = ResponsePlan.Error(405);
                notAllowed.Head.Header("Allow", Allow);
                return notAllowed;
            default:
                return ResponsePlan.Error(501);
        }

        if (root is null)
            return ResponsePlan.Error(404, sendBody);
        // A cached file was reached through this same path when it was read (the root's walk
        // included); the cache checks that it is still that file.
        if (cache is not null && cache.TryGet(request.Path, out var cached))
            return PlanFile(request, cached, sendBody);
        if (!root.TryResolve(request.Path, out var fullPath))
            return ResponsePlan.Error(404, sendBody);

        // One stat answers the common case (a file); a directory costs a second one.
        var file = new FileInfo(fullPath);
        if (!file.Exists && Directory.Exists(fullPath))
        {
            if (!request.Path.EndsWith('/'))
            {
                // Relative links in the page resolve against the directory only with the slash.
                var location = request.Path + "/" + (request.Query is null ? "" : "?" + request.Query);
                var moved = ResponsePlan.Text(301, $"Moved to {location}\n", sendBody);
                moved.Head.Header("Location", location);
                return moved;
            }
            var index = Path.Combine(fullPath, "index.html");
            var indexFile = new FileInfo(index);
            if (indexFile.Exists)
                return PlanExisting(request, indexFile, sendBody);
            return directoryListing
                ? ResponsePlan.Bytes(200, "text/html; charset=utf-8", DirectoryListing(request.Path, fullPath), sendBody)
                : ResponsePlan.Error(404, sendBody);
        }

        return file.Exists ? PlanExisting(request, file, sendBody) : ResponsePlan.Error(404, sendBody);
    }

    private ResponsePlan PlanExisting(HttpRequest request, FileInfo file, bool sendBody) =>
        !ThroughLink(file, out var target) ? PlanFile(request, Represent(request, file), sendBody)
        : target is null ? ResponsePlan.Error(404, sendBody) // a dangling link
        : PlanFile(request, FileRepresentation.Of(target), sendBody);

    /// <summary>
    /// A file reached through a link is described by its final target (the document root has
    /// checked that it stays inside; <see cref="FileRepresentation.IsLink"/> says why). Such a
    /// file is not cached: the link may be pointed elsewhere while the old target stays
    /// unchanged, and a stat of the path would not see it.
    /// </summary>
    private static bool ThroughLink(FileInfo file, out FileInfo? target)
    {
        target = null;
        if (!FileRepresentation.IsLink(file)) return false;
        target = file.ResolveLinkTarget(returnFinalTarget: true) as FileInfo is { Exists: true } final ? final : null;
        return true;
    }

    // A GET of a small settled file fills the cache; HEAD and the rest only read its metadata.
    private FileRepresentation Represent(HttpRequest request, FileInfo file) =>
        (cache is not null && request.Method == "GET" ? cache.TryAdd(request.Path, file, DateTime.UtcNow) : null)
        ?? FileRepresentation.Of(file);

    private static ResponsePlan PlanFile(HttpRequest request, FileRepresentation file, bool sendBody)
    {
        var length = file.Length;
        var lastModified = file.LastModified;
        var etag = file.ETag;
        HttpResponseHead Head(int status) => new HttpResponseHead(status)
            .Header("Content-Type", file.ContentType)
            .Header("Last-Modified", file.LastModifiedText)
            .Header("ETag", etag)
            .Header("Accept-Ranges", "bytes");

        if (NotModified(request, etag, lastModified))
        {
            var notModified = new HttpResponseHead(304)
                .Header("Last-Modified", file.LastModifiedText)
                .Header("ETag", etag);
            return new ResponsePlan(notModified, 304, default, null, false);
        }

        var rangeHeader = request.Method == "GET" && RangeStillValid(request, etag, lastModified)
            ? request.Headers.Get("Range")
            : null;
        switch (ByteRange.TryParse(rangeHeader, length, out var range))
        {
            case ByteRangeResult.Satisfiable:
                var partial = Head(206)
                    .Header("Content-Range", range.ContentRange(length))
                    .Header("Content-Length", range.Length.ToString(CultureInfo.InvariantCulture));
                return file.Content is { } bytes
                    ? new ResponsePlan(partial, 206, bytes.AsMemory((int)range.Start, (int)range.Length), null, sendBody)
                    : new ResponsePlan(partial, 206, default, new FileSlice(file.FullPath, range.Start, range.Length, length, file.LastWriteUtc), sendBody);
            case ByteRangeResult.Unsatisfiable:
                var unsatisfiable = ResponsePlan.Error(416, sendBody);
                unsatisfiable.Head.Header("Content-Range", ByteRange.UnsatisfiedContentRange(length));
                return unsatisfiable;
            default:
                var whole = Head(200).Header("Content-Length", length.ToString(CultureInfo.InvariantCulture));
                return file.Content is { } all
                    ? new ResponsePlan(whole, 200, all, null, sendBody)
                    : new ResponsePlan(whole, 200, default, new FileSlice(file.FullPath, 0, length, length, file.LastWriteUtc), sendBody);
        }
    }

    // RFC 9110 §13.1.2/§13.2.2: If-None-Match takes precedence; If-Modified-Since only without it.
    private static bool NotModified(HttpRequest request, string etag, DateTimeOffset lastModified)
    {
        var ifNoneMatch = request.Headers.Get("If-None-Match");
        if (ifNoneMatch is not null)
            return EntityTag.Matches(ifNoneMatch, etag);
        var ifModifiedSince = request.Headers.Get("If-Modified-Since");
        return ifModifiedSince is not null
               && HttpDate.TryParse(ifModifiedSince, out var since)
               && lastModified <= since;
    }

    // RFC 9110 §13.1.5: a Range with a stale If-Range validator is ignored and the whole file sent.
    private static bool RangeStillValid(HttpRequest request, string etag, DateTimeOffset lastModified)
    {
        var ifRange = request.Headers.Get("If-Range");
        if (ifRange is null) return true;
        if (ifRange.StartsWith('"')) return ifRange == etag;
        return HttpDate.TryParse(ifRange, out var date) && date == lastModified;
    }

    private static byte[] DirectoryListing(string requestPath, string directory)
    {
        var title = Html.Encode(WebUtility.UrlDecode(requestPath));
        var html = new StringBuilder()
            .Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ").Append(title)
            .Append("</title></head>\n<body><h1>Index of ").Append(title).Append("</h1>\n<ul>\n");
        if (requestPath != "/")
            html.Append("<li><a href=\"../\">../</a></li>\n");
        var entries = new DirectoryInfo(directory).EnumerateFileSystemInfos()
            .OrderBy(e => e is FileInfo).ThenBy(e => e.Name, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var name = entry is DirectoryInfo ? entry.Name + "/" : entry.Name;
            var size = entry is FileInfo f ? $" ({f.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)" : "";
            html.Append("<li><a href=\"").Append(Html.Encode(Uri.EscapeDataString(entry.Name)))
                .Append(entry is DirectoryInfo ? "/" : "").Append("\">").Append(Html.Encode(name))
                .Append("</a>").Append(size).Append("</li>\n");
        }
        html.Append("</ul></body></html>\n");
        return Encoding.UTF8.GetBytes(html.ToString());
    }
}
