using System.Diagnostics;
using Actors.Lab.Events;
using Actors.Lab.Processes;
using Akka.TestKit.Xunit2;
using Xunit;

namespace Actors.Lab.Tests;

/// <summary>The process fault plane on a real process (sleep) described by a manifest, as run-cluster writes them.</summary>
public sealed class ProcessFaultsTests : TestKit
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lab-faults-").FullName;
    // Each with its start time: Dispose must not kill a process that took a pid after ours ended.
    private readonly List<(int Pid, long Started)> _pids = [];

    private void Track(int pid) => _pids.Add((pid, Posix.StartTime(pid)));

    private NodeManifest StartSleeper(string name)
    {
        var process = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        // With its start time, as run-cluster and the launcher write every manifest.
        var manifest = new NodeManifest(name, process.Id, ["sleep", "300"], _dir, Path.Combine(_dir, name + ".log"), Started: Posix.StartTime(process.Id));
        _pids.Add((manifest.Pid, manifest.Started));
        new ManifestStore(_dir).Write(manifest);
        return manifest;
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            Thread.Sleep(20);
        }
    }

    [Fact]
    public void Pause_resume_restart_and_kill_act_on_the_process_the_manifest_names()
    {
        var manifest = StartSleeper("worker");
        var events = CreateTestProbe();
        var faults = Sys.ActorOf(ProcessFaults.Props(new ManifestStore(_dir), events, TimeSpan.FromSeconds(2)));

        faults.Tell(new KillNode("worker", "STOP"), TestActor);
        ExpectMsg<FaultDone>();
        Assert.Equal("fault-begun", events.ExpectMsg<RecordEvent>().Kind);
        WaitFor(() => Posix.State(manifest.Pid) == ProcessState.Paused, "paused");

        faults.Tell(new KillNode("worker", "CONT"), TestActor);
        ExpectMsg<FaultDone>();
        Assert.Equal("fault-ended", events.ExpectMsg<RecordEvent>().Kind);
        WaitFor(() => Posix.State(manifest.Pid) == ProcessState.Running, "running again");

        faults.Tell(new RestartNode("worker"), TestActor);
        ExpectMsg<FaultDone>();
        Assert.Equal("fault-begun", events.ExpectMsg<RecordEvent>().Kind);
        var restarted = events.ExpectMsg<RecordEvent>(TimeSpan.FromSeconds(10));
        Assert.Equal("fault-ended", restarted.Kind);
        var fresh = new ManifestStore(_dir).Find("worker")!;
        _pids.Add((fresh.Pid, fresh.Started));
        Assert.NotEqual(manifest.Pid, fresh.Pid);
        Assert.Equal(ProcessState.Gone, Posix.State(manifest.Pid));
        Assert.Equal(ProcessState.Running, Posix.State(fresh.Pid));
        Assert.Equal(manifest.Command, fresh.Command);

        faults.Tell(new KillNode("worker"), TestActor);
        ExpectMsg<FaultDone>();
        WaitFor(() => Posix.State(fresh.Pid) == ProcessState.Gone, "killed");
    }

    /// <summary>
    /// The lab is the parent of what it restarts, so it can say how that process ended: a node
    /// whose role cannot run exits 1 (the failure policy), and the event log says so with the code.
    /// </summary>
    [Fact]
    public void A_restarted_process_that_ends_is_an_exited_event_with_its_exit_code()
    {
        new ManifestStore(_dir).Write(new NodeManifest("failing", 0, ["sh", "-c", "sleep 0.3; echo 'actors web: cannot listen' >&2; exit 3"], _dir, Path.Combine(_dir, "failing.log")));
        var events = CreateTestProbe();
        var faults = Sys.ActorOf(ProcessFaults.Props(new ManifestStore(_dir), events));

        faults.Tell(new RestartNode("failing"), TestActor);
        ExpectMsg<FaultDone>();
        Assert.Equal("fault-begun", events.ExpectMsg<RecordEvent>().Kind);
        Assert.Equal("fault-ended", events.ExpectMsg<RecordEvent>(TimeSpan.FromSeconds(10)).Kind);
        var failing = new ManifestStore(_dir).Find("failing")!;
        var pid = failing.Pid;
        _pids.Add((pid, failing.Started));
        var exited = events.ExpectMsg<RecordEvent>(TimeSpan.FromSeconds(10));
        // With the role's own last words from its log: the cause, where the user reads the event.
        Assert.Equal(("failing", "exited", $"pid {pid} exited with code 3: actors web: cannot listen"), (exited.Node, exited.Kind, exited.Text));
        Assert.Equal(3, ProcessFaults.ExitCodeOf(exited.Text));
        Assert.Equal(-2, ProcessFaults.ExitCodeOf(ProcessFaults.ExitText(7, -2)));
        Assert.Null(ProcessFaults.ExitCodeOf("restarted (pid 12)"));
        // Its output went to its log, as a node's does.
        Assert.Equal("actors web: cannot listen", File.ReadAllText(Path.Combine(_dir, "failing.log")).Trim());
    }

    [Fact]
    public void Unknown_nodes_bad_signals_and_dead_processes_are_refused()
    {
        var manifest = StartSleeper("victim");
        var events = CreateTestProbe();
        var faults = Sys.ActorOf(ProcessFaults.Props(new ManifestStore(_dir), events));

        faults.Tell(new KillNode("nobody"), TestActor);
        Assert.Equal(404, ExpectMsg<FaultRefused>().Status);
        faults.Tell(new KillNode("victim", "HUP-ISH"), TestActor);
        Assert.Equal(400, ExpectMsg<FaultRefused>().Status);
        Assert.Equal(ProcessState.Running, Posix.State(manifest.Pid));

        faults.Tell(new KillNode("victim"), TestActor);
        ExpectMsg<FaultDone>();
        WaitFor(() => Posix.State(manifest.Pid) == ProcessState.Gone, "killed");
        faults.Tell(new KillNode("victim"), TestActor);
        Assert.Equal(409, ExpectMsg<FaultRefused>().Status);
    }

    [Fact]
    public void A_dead_process_its_parent_has_not_reaped_is_refused_as_not_running()
    {
        // The shell starts a child that exits soon, then becomes `sleep 300`, which never waits
        // for it: the child stays a zombie, as a killed node does for a while on a loaded machine.
        // The child must outlive the exec: dash reaps a child that ended before it (sleep 0 did, once).
        var parent = Process.Start(new ProcessStartInfo("sh", ["-c", "sleep 0.5 & echo $!; exec sleep 300"])
            { UseShellExecute = false, RedirectStandardOutput = true })!;
        Track(parent.Id);
        var zombie = int.Parse(parent.StandardOutput.ReadLine()!);
        WaitFor(() => File.Exists($"/proc/{zombie}/stat") && File.ReadAllText($"/proc/{zombie}/stat").Contains(") Z "), "zombie");

        Assert.Equal(ProcessState.Gone, Posix.State(zombie));
        Assert.False(Posix.Kill(zombie, 9));
        new ManifestStore(_dir).Write(new NodeManifest("undead", zombie, ["sleep", "0"], _dir, Path.Combine(_dir, "undead.log")));
        var faults = Sys.ActorOf(ProcessFaults.Props(new ManifestStore(_dir), CreateTestProbe()));
        faults.Tell(new KillNode("undead"), TestActor);
        Assert.Equal(409, ExpectMsg<FaultRefused>().Status);
    }

    [Fact]
    public void A_manifest_whose_pid_now_belongs_to_another_process_signals_nothing()
    {
        // The pid was reused: same number, another start time (what the manifest recorded is not this process).
        var other = StartSleeper("other");
        var started = Posix.StartTime(other.Pid);
        Assert.True(started > 0);
        var reused = other with { Name = "stale", Started = started - 1 };
        new ManifestStore(_dir).Write(reused);
        var events = CreateTestProbe();
        var faults = Sys.ActorOf(ProcessFaults.Props(new ManifestStore(_dir), events));

        Assert.Equal(ProcessState.Gone, reused.State());
        faults.Tell(new KillNode("stale"), TestActor);
        Assert.Equal(409, ExpectMsg<FaultRefused>().Status);
        faults.Tell(new KillNode("stale", "STOP"), TestActor);
        Assert.Equal(409, ExpectMsg<FaultRefused>().Status);
        Assert.Equal(ProcessState.Running, Posix.State(other.Pid));

        // With its own start time the same pid is signalled.
        var own = other with { Started = started };
        Assert.Equal(ProcessState.Running, own.State());
        Assert.True(own.Signal("KILL"));
        WaitFor(() => Posix.State(other.Pid) == ProcessState.Gone, "killed");
    }

    [Fact]
    public void The_launcher_records_the_pid_and_start_time_of_the_process_it_started()
    {
        var started = ProcessLauncher.Start(new NodeManifest("launched", 0, ["sleep", "300"], _dir, Path.Combine(_dir, "launched.log")));
        _pids.Add((started.Pid, started.Started));
        Assert.True(started.Pid > 0);
        Assert.Equal(Posix.StartTime(started.Pid), started.Started);
        Assert.Equal(ProcessState.Running, started.State());
        // exec: the pid becomes the command itself (sh for a moment first), with the same start time.
        WaitFor(() => File.ReadAllText($"/proc/{started.Pid}/comm").Trim() == "sleep", "sh exec'd the command");
        Assert.Equal(started.Started, Posix.StartTime(started.Pid));
        Assert.Equal(ProcessState.Running, started.State());
    }

    [Fact]
    public void Proc_gives_cpu_memory_and_age_of_a_process()
    {
        var usage = Posix.Usage(Environment.ProcessId);
        Assert.NotNull(usage);
        Assert.InRange(usage.Value.ResidentBytes, Environment.WorkingSet / 2, Environment.WorkingSet * 2);
        Assert.True(usage.Value.CpuSeconds > 0);
        var age = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds;
        Assert.InRange(usage.Value.AgeSeconds, age - 2, age + 2);
        Assert.Null(Posix.Usage(-5));
    }

    [Fact]
    public void Manifests_are_read_as_run_cluster_writes_them()
    {
        File.WriteAllText(Path.Combine(_dir, "tracker2.json"),
            """{"name":"tracker2","pid":1234,"command":["dotnet","src/Actors.Host/bin/Release/net10.0/actors.dll","tracker","--name","tracker2"],"cwd":"/repo","log":".cluster/logs/tracker2.log","address":"127.0.0.1:4056","started":8812345}""" + "\n");
        File.WriteAllText(Path.Combine(_dir, "broken.json"), "{ not json");
        var all = new ManifestStore(_dir).ReadAll();
        var m = Assert.Single(all);
        Assert.Equal(("tracker2", 1234, "127.0.0.1:4056", 5, 8812345L), (m.Name, m.Pid, m.Address, m.Command.Count, m.Started));
    }

    protected override void Dispose(bool disposing)
    {
        // A start time of 0 (the process was gone when tracked) proves nothing: such a pid is not signalled.
        foreach (var (pid, started) in _pids.Where(p => p.Started != 0)) Posix.Kill(pid, 9, started);
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        base.Dispose(disposing);
    }
}
