using System.Text;
using System.Text.Unicode;

namespace Actors.Web.Http;

/// <summary>
/// Maps request paths to files under one directory and refuses anything that could escape it:
/// dot segments (raw or percent-encoded), encoded separators, NUL, and symbolic links whose
/// target lies outside the root.
/// </summary>
public sealed class DocumentRoot
{
    private const int MaxLinkExpansions = 40; // like the kernel's ELOOP limit

    private static readonly StringComparison PathComparison =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly string _realRoot;

    public DocumentRoot(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        RootDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDirectory));
        // The root itself may sit under a link (/tmp -> /private/tmp on macOS); link targets are compared with its real location.
        var top = Path.GetPathRoot(RootDirectory) ?? "";
        _realRoot = RealPath(top, RootDirectory[top.Length..]) ?? RootDirectory;
    }

    public string RootDirectory { get; }

    /// <summary>
    /// Resolves a request path (as in <see cref="HttpRequest.Path"/>: starts with '/', percent-encoded)
    /// to a full path under the root. Does not check that the file exists.
    /// </summary>
    public bool TryResolve(string requestPath, out string fullPath)
    {
        fullPath = "";
        if (!TryPercentDecode(requestPath, out var decoded)) return false;

        var segments = decoded.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.Length == 0 && i < segments.Length - 1) return false; // "//": an empty segment, only a trailing "/" is fine
            if (segment is "." or "..") return false;
            if (OperatingSystem.IsWindows() && segment.Contains(':')) return false; // drive letters, alternate data streams
        }

        var relative = decoded[1..].Replace('/', Path.DirectorySeparatorChar);
        var candidate = Path.GetFullPath(Path.Join(RootDirectory, relative));
        if (!IsInside(candidate, RootDirectory)) return false;

        // Only the part below the root is walked: the root's own real location was resolved at
        // start, and walking every component of an absolute path cost a stat and a readlink each.
        var real = RealPath(_realRoot, candidate[RootDirectory.Length..]);
        if (real is null || !IsInside(real, _realRoot)) return false;

        fullPath = candidate;
        return true;
    }

    /// <summary>Percent-decodes as UTF-8; refuses encoded '/' or '\', raw '\', controls (NUL), bad escapes and invalid UTF-8.</summary>
    private static bool TryPercentDecode(string path, out string decoded)
    {
        decoded = "";
        if (string.IsNullOrEmpty(path) || path[0] != '/') return false;

        var bytes = path.Length <= 256 ? stackalloc byte[path.Length] : new byte[path.Length];
        var n = 0;
        for (var i = 0; i < path.Length; i++)
        {
            int b = path[i];
            if (b == '%')
            {
                if (i + 2 >= path.Length || !char.IsAsciiHexDigit(path[i + 1]) || !char.IsAsciiHexDigit(path[i + 2])) return false;
                b = byte.Parse(path.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier);
                if (b is '/' or '\\') return false;
                i += 2;
            }
            else if (b > 0x7E) return false; // request targets are ASCII; non-ASCII must arrive percent-encoded
            if (b < 0x20 || b == 0x7F || b == '\\') return false;
            bytes[n++] = (byte)b;
        }
        if (!Utf8.IsValid(bytes[..n])) return false;
        decoded = Encoding.UTF8.GetString(bytes[..n]);
        return true;
    }

    private static bool IsInside(string path, string root)
    {
        path = Path.TrimEndingDirectorySeparator(path);
        if (path.Equals(root, PathComparison)) return true;
        var prefix = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, PathComparison);
    }

    /// <summary>
    /// <paramref name="start"/> (a real path) joined with <paramref name="relative"/>, every symbolic link on the way replaced by its target, component by component
    /// (so ".." inside a link target is applied to the real directory, as the kernel does).
    /// Components that do not exist are taken literally. Null on a link loop or unreadable link.
    /// </summary>
    private static string? RealPath(string start, string relative)
    {
        var current = start;
        var pending = new Stack<string>();
        PushComponents(pending, relative);
        var expansions = 0;

        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part is "" or ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Join(current, part);
            string? target;
            try
            {
                // On Unix one readlink answers "is it a link, and to what" for files and directories
                // alike (null when it is not a link or does not exist).
                FileSystemInfo info = !OperatingSystem.IsWindows() || !Directory.Exists(next) ? new FileInfo(next) : new DirectoryInfo(next);
                target = info.LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }

            if (target is null)
            {
                current = next;
                continue;
            }
            if (++expansions > MaxLinkExpansions) return null;
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target) ?? current;
                target = target[current.Length..];
            }
            PushComponents(pending, target);
        }
        return current;
    }

    private static void PushComponents(Stack<string> pending, string relative)
    {
        var parts = relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
        for (var i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }
}
