using Actors.Lab.Events;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Actors.Lab.Processes;

/// <summary>
/// The process fault plane (<c>process-faults</c>): kill -9, pause/resume, terminate, leave and
/// restart of the nodes whose manifests are in the manifest folder (run-cluster writes them).
/// A restart stops the process (TERM, then KILL after <c>graceTime</c>), starts the manifest's
/// command again in its folder with output appended to its log, and rewrites the manifest with
/// the new pid. One restart per node at a time; the requester is answered at once and the
/// restart's end is an event. The lab is the parent of what it restarts, so it also records when
/// that process ends and its exit code (event <c>exited</c>, "pid N exited with code C"): a node
/// whose role cannot run (its port is taken) exits 1, and the Lab shows it. Every fault is
/// recorded in the event log.
/// </summary>
public sealed class ProcessFaults : ReceiveActor, IWithTimers
{
    private sealed record CheckStopped(string Name);

    private sealed record Exited(string Name, int Pid, int Code, string? Reason);

    private sealed class Restarting(NodeManifest manifest, DateTime killAt)
    {
        public NodeManifest Manifest { get; } = manifest;
        public DateTime KillAt { get; } = killAt;
        public bool Killed { get; set; }
    }

    private readonly ManifestStore _manifests;
    private readonly IActorRef _events;
    private readonly TimeSpan _graceTime;
    private readonly Dictionary<string, Restarting> _restarting = new(StringComparer.Ordinal);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ManifestStore manifests, IActorRef events, TimeSpan? graceTime = null) =>
        Akka.Actor.Props.Create(() => new ProcessFaults(manifests, events, graceTime ?? TimeSpan.FromSeconds(10)));

    public ProcessFaults(ManifestStore manifests, IActorRef events, TimeSpan graceTime)
    {
        _manifests = manifests;
        _events = events;
        _graceTime = graceTime;
        Receive<KillNode>(OnKill);
        Receive<LeaveNode>(OnLeave);
        Receive<RestartNode>(OnRestart);
        Receive<CheckStopped>(c => OnCheckStopped(c.Name));
        Receive<Exited>(OnExited);
    }

    /// <summary>
    /// The <c>exited</c> event's text, read back by the scenario runner's <c>node-exits</c> check;
    /// with the role's own last words when its log has them (<see cref="LastFailureLine"/>).
    /// </summary>
    public static string ExitText(int pid, int code, string? reason = null) =>
        reason is null ? $"pid {pid} exited with code {code}" : $"pid {pid} exited with code {code}: {reason}";

    /// <summary>The exit code an <c>exited</c> event's text names, or null.</summary>
    public static int? ExitCodeOf(string text)
    {
        const string marker = " exited with code ";
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return null;
        var digits = text.AsSpan(at + marker.Length);
        var end = digits.Length > 0 && digits[0] == '-' ? 1 : 0;
        while (end < digits.Length && char.IsAsciiDigit(digits[end])) end++;
        return int.TryParse(digits[..end], System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out var code) ? code : null;
    }

    /// <summary>
    /// The last line of a node's log that the failure policy printed (<c>actors ROLE: why</c>: a
    /// port taken, storage refused), from its last 8 KiB; null when there is none. Without it a
    /// restart that failed read "exited with code 1" and its cause was in a file nobody opened.
    /// </summary>
    public static string? LastFailureLine(string logPath)
    {
        try
        {
            using var file = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var tail = new byte[(int)Math.Min(8192, file.Length)];
            file.Seek(-tail.Length, SeekOrigin.End);
            file.ReadExactly(tail);
            return System.Text.Encoding.UTF8.GetString(tail).Split('\n').Select(l => l.Trim())
                .LastOrDefault(l => l.StartsWith("actors ", StringComparison.Ordinal) && l.Contains(": ", StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    private bool TryFind(string name, out NodeManifest manifest)
    {
        manifest = _manifests.Find(name)!;
        if (manifest is not null) return true;
        Sender.Tell(new FaultRefused(404, $"no node named '{name}' in {_manifests.Directory}"));
        return false;
    }

    private void OnKill(KillNode kill)
    {
        if (!Posix.Signals.ContainsKey(kill.Signal))
        {
            Sender.Tell(new FaultRefused(400, $"unknown signal '{kill.Signal}' (KILL, STOP, CONT, TERM)"));
            return;
        }
        if (!TryFind(kill.Name, out var manifest)) return;
        if (_restarting.ContainsKey(kill.Name)) { Sender.Tell(new FaultRefused(409, $"{kill.Name} is restarting")); return; }
        if (!manifest.Signal(kill.Signal.ToUpperInvariant()))
        {
            Sender.Tell(new FaultRefused(409, $"{kill.Name} (pid {manifest.Pid}) is not running"));
            return;
        }
        var (kind, text) = kill.Signal.ToUpperInvariant() switch
        {
            "KILL" => ("fault-begun", $"killed with SIGKILL (kill -9, pid {manifest.Pid})"),
            "STOP" => ("fault-begun", $"paused with SIGSTOP (pid {manifest.Pid})"),
            "CONT" => ("fault-ended", $"resumed with SIGCONT (pid {manifest.Pid})"),
            var other => ("fault-begun", $"sent SIG{other} (pid {manifest.Pid})"),
        };
        _events.Tell(new RecordEvent(kill.Name, kind, text));
        Sender.Tell(new FaultDone($"{kill.Name}: {text}"));
    }

    private void OnLeave(LeaveNode leave)
    {
        if (!TryFind(leave.Name, out var manifest)) return;
        if (TryParseAddress(manifest.Address, out var host, out var port))
        {
            var cluster = Cluster.Get(Context.System);
            var address = new Address(cluster.SelfAddress.Protocol, cluster.SelfAddress.System, host, port);
            cluster.Leave(address);
            _events.Tell(new RecordEvent(leave.Name, "fault-begun", $"asked to leave the cluster ({address})"));
            Sender.Tell(new FaultDone($"{leave.Name}: leaving the cluster"));
            return;
        }
        if (!manifest.Signal("TERM"))
        {
            Sender.Tell(new FaultRefused(409, $"{leave.Name} (pid {manifest.Pid}) is not running"));
            return;
        }
        _events.Tell(new RecordEvent(leave.Name, "fault-begun", $"not a cluster member: sent SIGTERM (pid {manifest.Pid})"));
        Sender.Tell(new FaultDone($"{leave.Name}: terminating"));
    }

    private void OnExited(Exited exited) =>
        _events.Tell(new RecordEvent(exited.Name, "exited", ExitText(exited.Pid, exited.Code, exited.Reason)));

    private static bool TryParseAddress(string text, out string host, out int port)
    {
        (host, port) = ("", 0);
        if (text.Length == 0) return false;
        try { (host, port) = Actors.Net.Tcp.Endpoints.ParseHostPort(text); return true; }
        catch (FormatException) { return false; }
    }

    private void OnRestart(RestartNode restart)
    {
        if (!TryFind(restart.Name, out var manifest)) return;
        if (_restarting.ContainsKey(restart.Name)) { Sender.Tell(new FaultRefused(409, $"{restart.Name} is already restarting")); return; }
        _restarting[restart.Name] = new Restarting(manifest, DateTime.UtcNow + _graceTime);
        _events.Tell(new RecordEvent(restart.Name, "fault-begun", $"restarting (stopping pid {manifest.Pid})"));
        // Answered at once: stopping gracefully can outlast an HTTP request; the end is an event.
        Sender.Tell(new FaultDone($"{restart.Name}: restarting"));
        var state = manifest.State();
        // A paused process cannot run its TERM handler: wake it so it can leave gracefully.
        if (state == ProcessState.Paused) manifest.Signal("CONT");
        if (state != ProcessState.Gone) manifest.Signal("TERM");
        OnCheckStopped(restart.Name);
    }

    private void OnCheckStopped(string name)
    {
        if (!_restarting.TryGetValue(name, out var restarting)) return;
        if (restarting.Manifest.State() != ProcessState.Gone)
        {
            if (!restarting.Killed && DateTime.UtcNow >= restarting.KillAt)
            {
                _log.Warning("{0} did not stop within {1}: killing it", name, _graceTime);
                restarting.Manifest.Signal("KILL");
                restarting.Killed = true;
            }
            Timers.StartSingleTimer("stop-" + name, new CheckStopped(name), TimeSpan.FromMilliseconds(100));
            return;
        }
        _restarting.Remove(name);
        try
        {
            var (started, process) = ProcessLauncher.StartWatched(restarting.Manifest);
            _manifests.Write(started);
            _events.Tell(new RecordEvent(name, "fault-ended", $"restarted (pid {started.Pid})"));
            // Its end comes back as a message (never touch the actor from the task's thread); the
            // log is read there too, off the actor's thread.
            var log = started.Log;
            process.WaitForExitAsync().ContinueWith(_ =>
            {
                using (process)
                {
                    var code = process.ExitCode;
                    return new Exited(name, started.Pid, code, code != 0 && log.Length > 0 ? LastFailureLine(log) : null);
                }
            }, TaskContinuationOptions.ExecuteSynchronously).PipeTo(Self);
        }
        catch (Exception ex) when (ex is IOException or System.ComponentModel.Win32Exception or UnauthorizedAccessException)
        {
            _events.Tell(new RecordEvent(name, "fault-refused", $"restart failed: {ex.Message}"));
        }
    }
}
