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
    /// <param name="started">The process's start time (see <see cref="StartTime"/>); another start time means the pid was reused: not ours. 0 checks nothing.</param>
    public static bool Kill(int pid, int signal, long started = 0) => pid > 0 && State(pid, started) != ProcessState.Gone && SysKill(pid, signal) == 0;

    /// <param name="started">As in <see cref="Kill"/>: a process with another start time is Gone for us.</param>
    public static ProcessState State(int pid, long started = 0)
    {
        if (pid <= 0) return ProcessState.Gone;
        try
        {
            // "pid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses).
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            var state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
            if (started != 0 && StartTimeOf(stat) != started) return ProcessState.Gone;
            return state switch { 'Z' or 'X' or 'x' => ProcessState.Gone, 'T' or 't' => ProcessState.Paused, _ => ProcessState.Running };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return ProcessState.Gone; }
    }

    /// <summary>When the process started, in clock ticks since boot (proc(5) field 22); 0 when unreadable. Survives exec.</summary>
    public static long StartTime(int pid)
    {
        try { return pid > 0 ? StartTimeOf(File.ReadAllText($"/proc/{pid}/stat")) : 0; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return 0; }
    }

    private static long StartTimeOf(string stat)
    {
        // After "pid (comm) ": state is field 0, so starttime (field 22 of proc(5)) is field 19.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], out var ticks) ? ticks : 0;
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
