namespace Actors.Benchmarks.Processes;

/// <summary>
/// A temp directory readable by everyone. nginx workers and opentracker drop privileges to
/// `nobody` when started as root, so a default 0700 temp dir would give 403s (nginx) or an
/// unreadable whitelist (opentracker).
/// </summary>
public sealed class TempDirectory : IDisposable
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode ReadableFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite
        | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private TempDirectory(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public static TempDirectory Create(string prefix)
    {
        var info = Directory.CreateTempSubdirectory(prefix);
        var directory = new TempDirectory(info.FullName);
        Cleanup.Register(directory);
        File.SetUnixFileMode(directory.Path, DirectoryMode);
        return directory;
    }

    /// <summary>Creates a world-readable subdirectory.</summary>
    public string CreateSubdirectory(string name)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(path, DirectoryMode);
        return path;
    }

    /// <summary>Writes a world-readable text file.</summary>
    public static void WriteText(string path, string contents)
    {
        File.WriteAllText(path, contents);
        File.SetUnixFileMode(path, ReadableFileMode);
    }

    /// <summary>Creates a world-readable sparse file: instant, no disk space, reads back as zeros.</summary>
    public static void CreateSparse(string path, long length)
    {
        using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            stream.SetLength(length);
        }
        File.SetUnixFileMode(path, ReadableFileMode);
    }

    public void Dispose()
    {
        Cleanup.Unregister(this);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
