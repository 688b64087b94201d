using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Servers;

/// <summary>
/// opentracker (Debian build) as the tracker reference. It serves only whitelisted info-hashes,
/// chroots into a directory and drops to `nobody`; the whitelist path is given inside the chroot,
/// and the directory and file must be readable by `nobody` (checked: with a 0700 directory it
/// cannot open the whitelist and refuses every announce).
/// </summary>
public static class OpenTrackerServer
{
    public const string WhitelistFileName = "whitelist.txt";

    public static Task<RunningServer> StartAsync(string chrootDirectory, CancellationToken cancellationToken)
    {
        var opentracker = CommandRunner.Which("opentracker")
            ?? throw new ServerUnavailableException("opentracker not installed (apt-get install -y opentracker)");
        var port = Ports.FindFree();
        string[] arguments =
        [
            "-i", "127.0.0.1", "-p", port.ToString(), "-P", port.ToString(),
            "-d", chrootDirectory, "-u", "nobody", "-w", "/" + WhitelistFileName, "-A", "127.0.0.1",
        ];
        return ServerProcess.StartAsync("opentracker", opentracker, arguments, port, cancellationToken);
    }
}
