namespace Actors.Host.Cli;

/// <summary>
/// The process's standard output, reserved for what a command documents: help, the caller's JSON
/// report, <c>torrent show</c>, the peer's progress and summary. <see cref="Claim"/> points
/// <see cref="Console.Out"/> at stderr, so nothing else — our logs, Akka's fallback logger (dead
/// letters during shutdown), a library's <c>Console.WriteLine</c> — can mix into machine-read output.
/// </summary>
public static class StandardOutput
{
    public static TextWriter Writer { get; private set; } = Console.Out;

    /// <summary>Called once, first thing in <c>Main</c>.</summary>
    public static void Claim()
    {
        Writer = Console.Out;
        Console.SetOut(Console.Error);
    }
}
