using Actors.Net.Configuration;
using Akka.Configuration;

namespace Actors.Lab.Links;

/// <summary>How every link proxies (HOCON <c>actors.lab.link-proxy</c>).</summary>
/// <param name="MaxBufferedBytes">Per connection and direction: the proxy reads again only while it holds less than this (plus one read).</param>
/// <param name="ConnectTimeout">To the target; on timeout the client's connection is reset.</param>
public sealed record LinkProxySettings(long MaxBufferedBytes = 256 * 1024, TimeSpan ConnectTimeout = default)
{
    public TimeSpan ConnectTimeout { get; init; } = ConnectTimeout == default ? TimeSpan.FromSeconds(5) : ConnectTimeout;

    public static readonly LinkProxySettings Default = new();

    /// <summary>Reads <c>actors.lab.link-proxy</c>, each key falling back to its default; a bad value throws <see cref="SettingsException"/> naming its key.</summary>
    public static LinkProxySettings From(Config config)
    {
        const string prefix = "actors.lab.link-proxy";
        var reader = new SettingsReader(config, prefix);
        return new LinkProxySettings(
            config.HasPath($"{prefix}.max-buffered-bytes") ? reader.Bytes("max-buffered-bytes", 1024, 64L * 1024 * 1024) : Default.MaxBufferedBytes,
            config.HasPath($"{prefix}.connect-timeout") ? reader.Duration("connect-timeout", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5)) : Default.ConnectTimeout);
    }
}
