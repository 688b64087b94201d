namespace Actors.Web.Http;

/// <summary>Content-Type for a file extension; text types carry charset=utf-8 where browsers would otherwise guess.</summary>
public static class MimeTypes
{
    public const string Default = "application/octet-stream";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        ["html"] = "text/html; charset=utf-8",
        ["htm"] = "text/html; charset=utf-8",
        ["css"] = "text/css",
        ["js"] = "application/javascript",
        ["mjs"] = "application/javascript",
        ["json"] = "application/json",
        ["map"] = "application/json",
        ["xml"] = "application/xml",
        ["txt"] = "text/plain; charset=utf-8",
        ["md"] = "text/markdown; charset=utf-8",
        ["csv"] = "text/csv; charset=utf-8",
        ["png"] = "image/png",
        ["jpg"] = "image/jpeg",
        ["jpeg"] = "image/jpeg",
        ["gif"] = "image/gif",
        ["webp"] = "image/webp",
        ["svg"] = "image/svg+xml",
        ["ico"] = "image/x-icon",
        ["woff"] = "font/woff",
        ["woff2"] = "font/woff2",
        ["pdf"] = "application/pdf",
        ["wasm"] = "application/wasm",
        ["mp4"] = "video/mp4",
        ["webm"] = "video/webm",
        ["mp3"] = "audio/mpeg",
        ["ogg"] = "audio/ogg",
        ["wav"] = "audio/wav",
        ["zip"] = "application/zip",
        ["gz"] = "application/gzip",
        ["tar"] = "application/x-tar",
        ["torrent"] = "application/x-bittorrent",
    };

    /// <summary>Accepts "html", ".html", "index.html" or "/a/b/index.html"; unknown -> application/octet-stream.</summary>
    public static string ForExtension(string extensionOrPath)
    {
        ArgumentNullException.ThrowIfNull(extensionOrPath);
        var s = extensionOrPath.AsSpan();
        var dot = s.LastIndexOf('.');
        var separator = s.LastIndexOfAny('/', '\\');
        if (dot < separator) return Default; // the dot belongs to a directory name
        if (dot < 0 && separator >= 0) return Default;
        var extension = s[(dot + 1)..];
        return ByExtension.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(extension, out var type) ? type : Default;
    }
}
