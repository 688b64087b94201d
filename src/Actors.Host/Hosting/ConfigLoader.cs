using System.Reflection;
using Actors.Host.Cli;
using Akka.Configuration;

namespace Actors.Host.Hosting;

/// <summary>
/// Builds a node's configuration from four layers, weakest first:
/// built-in defaults (config/*.conf compiled into the binary) &lt; the config directory's files
/// (<c>$ACTORS_CONFIG_DIR</c>, else <c>./config</c> when present) &lt; <c>--config FILE</c> &lt;
/// command-line options.
/// </summary>
public static class ConfigLoader
{
    /// <param name="roleFiles">The role's own file first, then files whose keys it borrows (weaker).</param>
    public static Config Load(IReadOnlyList<string> roleFiles, string commandLineHocon, string? configFile)
    {
        var config = Parse(commandLineHocon, "the command line");
        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new UsageException($"--config: file \"{configFile}\" does not exist");
            config = config.WithFallback(Parse(File.ReadAllText(configFile), configFile));
        }
        var directory = ConfigDirectory();
        if (directory is not null)
        {
            foreach (var name in roleFiles.Select(r => $"{r}.conf").Append("cluster.conf"))
            {
                var path = Path.Combine(directory, name);
                if (File.Exists(path)) config = config.WithFallback(Parse(File.ReadAllText(path), path));
            }
        }
        foreach (var name in roleFiles.Select(r => $"{r}.conf").Append("cluster.conf"))
        {
            var builtIn = BuiltIn(name);
            if (builtIn is not null) config = config.WithFallback(Parse(builtIn, $"built-in {name}"));
        }
        CheckTcpSizes(config);
        return config;
    }

    /// <summary>
    /// Akka.IO refuses to create any connection whose send or receive buffer setting is below twice
    /// its frame size, and a node would log that and retry for ever (a peer re-listening every
    /// 16 s): a frame raised without the buffers is said once, at start. Run on what was loaded,
    /// and again by whoever changes the frame afterwards; <paramref name="frameSetting"/> names the
    /// setting the frame came from.
    /// </summary>
    public static void CheckTcpSizes(Config config, string frameSetting = "akka.io.tcp.maximum-frame-size")
    {
        if (config.GetByteSize("akka.io.tcp.maximum-frame-size") is not long frame) return;
        foreach (var key in new[] { "send-buffer-size", "receive-buffer-size" })
        {
            if (config.GetByteSize($"akka.io.tcp.{key}") is long size && size < 2 * frame)
                throw new UsageException($"akka.io.tcp.{key} ({size} bytes) must be at least twice {frameSetting} ({frame} bytes): Akka.IO refuses every connection otherwise");
        }
    }

    /// <summary>
    /// For commands that are not cluster members (peer, caller): the same Akka.IO tuning, logging
    /// and serializers as every node, without remoting, cluster or Distributed Data.
    /// These commands handle Ctrl-C and SIGTERM themselves (the peer announces "stopped", the caller
    /// hangs up) and then terminate the system; Akka's own exit hook would shut it down under them.
    /// </summary>
    public static Config ForLocalSystem(Config config) =>
        ConfigurationFactory.ParseString("""
            akka.actor.provider = local
            akka.extensions = []
            akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
            """).WithFallback(config);

    private static string? ConfigDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("ACTORS_CONFIG_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        var local = Path.Combine(Directory.GetCurrentDirectory(), "config");
        return File.Exists(Path.Combine(local, "cluster.conf")) ? local : null;
    }

    private static string? BuiltIn(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("config." + name);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static Config Parse(string hocon, string origin)
    {
        try { return ConfigurationFactory.ParseString(hocon); }
        catch (Exception ex) { throw new UsageException($"{origin}: not valid HOCON: {ex.Message.Split('\n')[0]}"); }
    }
}
