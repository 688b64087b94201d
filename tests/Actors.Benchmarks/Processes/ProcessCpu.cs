using System.Globalization;

namespace Actors.Benchmarks.Processes;

/// <summary>
/// CPU seconds (user and system) a process and its live descendants have used, from /proc: a
/// per-request cost that a loaded, shared machine does not blur the way wall-clock rates are
/// blurred. Descendants count because nginx serves from worker processes under its master.
/// </summary>
public static class ProcessCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux ABI .NET runs on

    /// <summary>User + system seconds; 0 for a process that is gone.</summary>
    public static double Seconds(int pid) => Times(pid).Total;

    /// <summary>User and system seconds apart; 0 for a process that is gone.</summary>
    public static CpuTime Times(int pid)
    {
        long user = 0, system = 0;
        var parents = ParentsById();
        var tree = new HashSet<int> { pid };
        // Descendants: repeat until no new child turns up (the tree is shallow: nginx master → workers).
        for (var added = true; added;)
        {
            added = false;
            foreach (var (child, parent) in parents)
                if (tree.Contains(parent) && tree.Add(child)) added = true;
        }
        foreach (var id in tree)
        {
            if (Fields(id) is not { } fields) continue;
            user += long.Parse(fields[11], CultureInfo.InvariantCulture);
            system += long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        return new CpuTime(user / TicksPerSecond, system / TicksPerSecond);
    }

    private static Dictionary<int, int> ParentsById()
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
            var fields = Fields(id);
            if (fields is not null) parents[id] = int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        return parents;
    }

    /// <summary>The fields of /proc/PID/stat after "(comm)": [0] state, [1] ppid, ..., [11] utime, [12] stime.</summary>
    private static string[]? Fields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null; // exited meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
