using System.Runtime.InteropServices;

namespace Actors.Benchmarks.Reporting;

/// <summary>The context a figure needs to be read: where, when, and how busy the machine was.</summary>
public static class Machine
{
    public static void PrintHeader(string scenario, TimeSpan duration, int rounds)
    {
        Console.WriteLine($"== {scenario} benchmark — {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss zzz}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {CpuModel()}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        // The machine is shared: a high load average before the run means noisy figures.
        Console.WriteLine($"load average before run: {LoadAverage()}");
        Console.WriteLine($"wrk duration {duration.TotalSeconds:0} s, {rounds} round(s), servers alternate within a round, medians reported");
        Console.WriteLine();
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    public static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
