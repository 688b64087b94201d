using System.Collections.Concurrent;

namespace Actors.Benchmarks.Processes;

/// <summary>
/// Last line of defence for everything the benchmark starts or creates: child processes and temp
/// directories register here so that Ctrl-C, SIGTERM or an unhandled exception still kills them
/// and deletes the directories. Normal code paths dispose them themselves; disposing twice is safe.
/// </summary>
public static class Cleanup
{
    private static readonly ConcurrentDictionary<IDisposable, byte> Resources = new();

    public static void Register(IDisposable resource) => Resources.TryAdd(resource, 0);

    public static void Unregister(IDisposable resource) => Resources.TryRemove(resource, out _);

    /// <summary>Disposes every registered resource; child processes first, so their files are free.</summary>
    public static void DisposeAll()
    {
        var all = Resources.Keys.ToList();
        foreach (var resource in all.OfType<ChildProcess>().Concat<IDisposable>(all.Where(r => r is not ChildProcess)))
        {
            try
            {
                resource.Dispose();
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"cleanup: {e.Message}");
            }
        }
    }
}
