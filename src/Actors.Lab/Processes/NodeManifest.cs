using System.Text.Json;
using System.Text.Json.Serialization;

namespace Actors.Lab.Processes;

/// <summary>
/// How a node was started, so the lab can signal and restart it: one small JSON file per node
/// (<c>.cluster/nodes/NAME.json</c>), written by run-cluster (and rewritten by the lab when it
/// restarts the node). <paramref name="Address"/> is the node's cluster endpoint "host:port",
/// empty for processes that are not cluster members (peer). <paramref name="Started"/> is the
/// process's start time (/proc/PID/stat field 22, clock ticks since boot): pids are reused
/// (pid_max is 32768 here), so a signal goes only to the process started then; 0 (unknown) checks nothing.
/// <code>{"name":"tracker2","pid":1234,"started":8812345,"command":["dotnet","actors.dll","tracker",...],"cwd":"/repo","log":".cluster/logs/tracker2.log","address":"127.0.0.1:4056"}</code>
/// </summary>
public sealed record NodeManifest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("command")] IReadOnlyList<string> Command,
    [property: JsonPropertyName("cwd")] string Cwd,
    [property: JsonPropertyName("log")] string Log,
    [property: JsonPropertyName("address")] string Address = "",
    [property: JsonPropertyName("started")] long Started = 0)
{
    /// <summary>This manifest's process as /proc sees it: Gone when its pid now belongs to a process started later.</summary>
    public ProcessState State() => Posix.State(Pid, Started);

    /// <summary>Signals this manifest's process; false when it is gone (or its pid was reused).</summary>
    public bool Signal(string name) => Posix.Kill(Pid, Posix.Signals[name], Started);

    public static NodeManifest Parse(string json) =>
        JsonSerializer.Deserialize<NodeManifest>(json) is { Name.Length: > 0, Command.Count: > 0 } m
            ? m
            : throw new FormatException("a manifest needs a name and a command");

    public string ToJson() => JsonSerializer.Serialize(this);
}

/// <summary>The manifests of one folder. Unreadable files are skipped (a half-written file is retried next time).</summary>
public sealed class ManifestStore(string directory)
{
    public string Directory { get; } = directory;

    public IReadOnlyList<NodeManifest> ReadAll()
    {
        var result = new List<NodeManifest>();
        if (!System.IO.Directory.Exists(Directory)) return result;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            try { result.Add(NodeManifest.Parse(File.ReadAllText(file))); }
            catch (Exception ex) when (ex is IOException or JsonException or FormatException or UnauthorizedAccessException) { }
        }
        return result;
    }

    public NodeManifest? Find(string name) => ReadAll().FirstOrDefault(m => m.Name == name);

    /// <summary>Replaces NAME.json atomically (write a temporary file, then rename).</summary>
    public void Write(NodeManifest manifest)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, manifest.Name + ".json");
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, manifest.ToJson());
        File.Move(temporary, path, overwrite: true);
    }
}
