namespace Actors.TestSupport;

/// <summary>aria2c as our tests run it: loopback only, quiet, no DHT, local discovery or peer exchange.</summary>
public static class Aria2
{
    /// <summary>The flags every test passes, listening on <paramref name="listenPort"/>.</summary>
    public static string[] Flags(int listenPort) =>
    [
        "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
        $"--listen-port={listenPort}", "--console-log-level=warn", "--summary-interval=0", "--file-allocation=none",
    ];
}
