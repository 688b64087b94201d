using System.Security.Cryptography;
using Actors.Net.Configuration;
using Akka.Configuration;

namespace Actors.Lab;

/// <summary>
/// The lab role's settings (config/lab.conf, <c>actors.lab</c>). An empty token means "make one
/// at start"; <c>token-file</c> and <c>url-file</c>, when set, receive the token and the URL so
/// the CLI (and run-cluster) can find them.
/// </summary>
public sealed record LabSettings(string Host, int Port, string Token, string TokenFile, string UrlFile, string Manifests)
{
    /// <summary>Where <c>actors lab run</c> leaves its bundles; the dashboard lists them (actors.lab.runs).</summary>
    public string Runs { get; init; } = "lab-runs";

    public static LabSettings Read(Config config)
    {
        var lab = new SettingsReader(config, "actors.lab");
        var token = lab.String("token", allowEmpty: true);
        if (token.Length is > 0 and < 16) throw new SettingsException("actors.lab.token", "must be at least 16 characters (or empty: one is generated)");
        return new LabSettings(lab.String("host"), lab.Port("port"),
            token.Length > 0 ? token : NewToken(),
            lab.String("token-file", allowEmpty: true), lab.String("url-file", allowEmpty: true), lab.String("manifests"))
        {
            Runs = config.HasPath("actors.lab.runs") ? lab.String("runs") : "lab-runs",
        };
    }

    public static string NewToken() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}
