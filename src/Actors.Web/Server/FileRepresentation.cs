using Actors.Web.Http;

namespace Actors.Web.Server;

/// <summary>
/// What a response says about one file — its type, length and validators — and, when the file is
/// cached, its bytes. Built once per cached file, or per request for a file that is not.
/// </summary>
public sealed record FileRepresentation(
    string FullPath, long Length, DateTime LastWriteUtc, string ContentType, DateTimeOffset LastModified, string LastModifiedText,
    string ETag, byte[]? Content)
{
    /// <summary>
    /// Whether a FileInfo describes a symbolic link rather than a file: then its length is the
    /// target's path and its times the link's own, so it must not describe the file's bytes.
    /// Read from the stat FileInfo already made (no system call).
    /// </summary>
    public static bool IsLink(FileInfo file) => (file.Attributes & FileAttributes.ReparsePoint) != 0;

    public static FileRepresentation Of(FileInfo file, byte[]? content = null)
    {
        // HTTP dates have one-second resolution: compare and send the truncated time. The entity
        // tag takes the whole time, so two versions of one length written within a second differ.
        var utc = file.LastWriteTimeUtc;
        var lastModified = new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        return new FileRepresentation(file.FullName, file.Length, utc, MimeTypes.ForExtension(file.Name), lastModified,
            HttpDate.Format(lastModified), EntityTag.For(file.Length, new DateTimeOffset(utc, TimeSpan.Zero)), content);
    }
}
