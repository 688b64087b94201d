using System.Runtime.InteropServices;

namespace Actors.Lab.Processes;

/// <summary>What /proc says about a process.</summary>
public enum ProcessState { Gone, Running, Paused }

/// <summary>Signals and process states on Linux (kill(2) and /proc/PID/stat).</summary>
public static class Posix
{
    public static readonly IReadOnlyDictionary<string, int> Signals = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["KILL"] = 9, ["TERM"] = 15, ["STOP"] = 19, ["CONT"] = 18, ["INT"] = 2,
    };

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    /// <summary>
    /// Sends the signal; false when the process does not exist, is not ours, or is dead and not yet
    /// reaped by its parent (a zombie: kill(2) still succeeds on it, but there is nothing to signal,
    /// and a loaded machine can leave one for seconds).
    /// </summary>
    public static bool Kill(int pid, int signal) => pid > 0 && State(pid) != ProcessState.Gone && SysKill(pid, signal) == 0;

    public static ProcessState State(int pid)
    {
        if (pid <= 0) return ProcessState.Gone;
        try
        {
            // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses).
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
            return state switch { 'Z' or 'X' or 'x' => ProcessState.Gone, 'T' or 't' => ProcessState.Paused, _ => ProcessState.Running };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return ProcessState.Gone; }
    }

    /// <summary>CPU seconds (user + system), resident bytes and age in seconds of a process, from /proc; null when unreadable.</summary>
    public static (double CpuSeconds, long ResidentBytes, double AgeSeconds)? Usage(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state is field 0, utime field 11, stime field 12 (proc(5) fields 14 and 15), in clock ticks.
            var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
            var rssPages = long.Parse(File.ReadAllText($"/proc/{pid}/statm").Split(' ')[1]);
            // starttime (proc(5) field 22) is in ticks since boot; /proc/uptime is seconds since boot.
            var sinceBoot = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            return (ticks / 100.0, rssPages * Environment.SystemPageSize, Math.Max(0, sinceBoot - long.Parse(fields[19]) / 100.0));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
