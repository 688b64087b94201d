using Actors.Web.Http;

namespace Actors.Web.Server;

/// <summary>Everything the web role reads from <c>actors.web</c> in HOCON (see config/web.conf).</summary>
public sealed record WebServerSettings(
    string Host,
    int Port,
    string? Root,
    int MaxConnections,
    HttpLimits Limits,
    TimeSpan HeaderTimeout,
    TimeSpan IdleTimeout,
    TimeSpan WriteTimeout,
    int ChunkSize,
    bool DirectoryListing,
    bool AccessLog,
    long FileCacheBytes = 0);
