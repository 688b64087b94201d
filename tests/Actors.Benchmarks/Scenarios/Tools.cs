using Actors.Benchmarks.Load;
using Actors.Benchmarks.Processes;

namespace Actors.Benchmarks.Scenarios;

/// <summary>The load tools every scenario needs; without them nothing can be measured.</summary>
public sealed record Tools(WrkRunner Wrk, CurlDownloader Curl)
{
    public static Tools Find()
    {
        var wrk = CommandRunner.Which("wrk") ?? throw new SetupException("wrk not installed (apt-get install -y wrk)");
        var curl = CommandRunner.Which("curl") ?? throw new SetupException("curl not installed (apt-get install -y curl)");
        return new Tools(new WrkRunner(wrk), new CurlDownloader(curl));
    }
}

/// <summary>The benchmark itself cannot run (a tool is missing, bad arguments): exit code 1.</summary>
public sealed class SetupException(string message) : Exception(message);
