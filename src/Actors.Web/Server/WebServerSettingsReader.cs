using Actors.Net.Configuration;
using Actors.Web.Http;
using Akka.Configuration;

namespace Actors.Web.Server;

public static class WebServerSettingsReader
{
    /// <summary>Reads <c>actors.web</c>; throws <see cref="SettingsException"/> naming the first bad key.</summary>
    public static WebServerSettings Read(Config config)
    {
        var read = new SettingsReader(config, "actors.web");
        // An empty root serves no files: only routed paths answer (a tracker-only node).
        var root = read.String("root", allowEmpty: true);
        if (root.Length > 0 && !Directory.Exists(root))
            throw new SettingsException("actors.web.root", $"directory \"{root}\" does not exist");
        return new WebServerSettings(
            Host: read.String("host"),
            Port: read.Port("port"),
            Root: root.Length == 0 ? null : Path.GetFullPath(root),
            MaxConnections: read.Int("max-connections", 1, 1_000_000),
            Limits: new HttpLimits(
                MaxRequestLineBytes: (int)read.Bytes("max-request-line", 64, 1 << 20),
                MaxHeaderBytes: (int)read.Bytes("max-header-bytes", 256, 16 << 20),
                MaxHeaderCount: read.Int("max-header-count", 1, 10_000),
                MaxBodyBytes: read.Bytes("max-body", 0, 1L << 30)),
            HeaderTimeout: read.Duration("header-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)),
            IdleTimeout: read.Duration("idle-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1)),
            WriteTimeout: read.Duration("write-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1)),
            ChunkSize: (int)read.Bytes("chunk-size", 1024, 16 << 20),
            DirectoryListing: read.Bool("directory-listing"),
            AccessLog: read.Bool("access-log"),
            FileCacheBytes: read.Bytes("file-cache-size", 0, 1L << 32));
    }
}
