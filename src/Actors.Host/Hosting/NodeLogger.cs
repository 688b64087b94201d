using System.Net.Sockets;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Actors.Host.Hosting;

/// <summary>
/// Akka's log sink for every node: one line per event, naming the node ("web@127.0.0.1:4053") so
/// the interleaved logs of a local cluster stay readable. Logs go to stderr: stdout carries only
/// what a command documents (see <see cref="Cli.StandardOutput"/>). Output is buffered and flushed a few
/// times a second (and at once for warnings and errors), so a busy access log costs little.
/// </summary>
public sealed class NodeLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>, IWithTimers
{
    /// <summary>Set by the host once the node's address is known.</summary>
    public static volatile string NodeName = "actors";

    private sealed class Flush { public static readonly Flush Instance = new(); }
    private sealed class ReportClosedDuringSetup { public static readonly ReportClosedDuringSetup Instance = new(); }

    /// <summary>How often the count of <see cref="IsClosedDuringSetup"/> failures is written.</summary>
    public static readonly TimeSpan ClosedDuringSetupInterval = TimeSpan.FromSeconds(10);
    private int _closedDuringSetup;

    private readonly TextWriter _out = new StreamWriter(Console.OpenStandardError(), bufferSize: 64 * 1024) { AutoFlush = false };

    public ITimerScheduler Timers { get; set; } = null!;

    public NodeLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(Write);
        Receive<Flush>(_ => _out.Flush());
        Receive<ReportClosedDuringSetup>(_ =>
        {
            _out.Write($"{DateTime.UtcNow:HH:mm:ss.fff} WARN  {NodeName} /system/IO-TCP: {_closedDuringSetup} connection(s) closed by the other side while Akka.IO set them up " +
                       $"(ENOTCONN; their owners saw them close) in the last {ClosedDuringSetupInterval.TotalSeconds:0} s\n");
            _out.Flush();
            _closedDuringSetup = 0;
        });
    }

    protected override void PostStop() => _out.Flush();

    private void Write(LogEvent e)
    {
        if (IsBindFailure(e)) return;
        if (IsClosedDuringSetup(e, out var first))
        {
            if (first && _closedDuringSetup++ == 0)
                Timers.StartSingleTimer(ReportClosedDuringSetup.Instance, ReportClosedDuringSetup.Instance, ClosedDuringSetupInterval);
            return;
        }
        var level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => "DEBUG",
            LogLevel.InfoLevel => "INFO ",
            LogLevel.WarningLevel => "WARN ",
            _ => "ERROR",
        };
        var source = e.LogSource;
        var path = source.IndexOf("/user/", StringComparison.Ordinal);
        if (path < 0) path = source.IndexOf("/system/", StringComparison.Ordinal);
        if (path >= 0) source = source[path..];
        _out.Write($"{e.Timestamp:HH:mm:ss.fff} {level} {NodeName} {source}: {e.Message}\n");
        if (e.Cause is not null) _out.Write($"    {e.Cause.GetType().Name}: {e.Cause.Message}\n");
        if (e.LogLevel() >= LogLevel.WarningLevel) _out.Flush();
        // A flush 200 ms after the first unflushed line, not a periodic timer: an idle node never wakes for it.
        else if (!Timers.IsTimerActive(Flush.Instance)) Timers.StartSingleTimer(Flush.Instance, Flush.Instance, TimeSpan.FromMilliseconds(200));
    }

    /// <summary>
    /// Akka.IO's connection actor throws when the other side closed a connection it was still
    /// setting up (<c>ENOTCONN</c>), and its supervisor logs two ERRORs (the exception, then
    /// "Restarting not supported for connection actors"), though the actor that owns the
    /// connection just sees it close. Peers refused for want of slots cause hundreds in a Lab
    /// swarm: counted and written once per <see cref="ClosedDuringSetupInterval"/> instead.
    /// </summary>
    /// <param name="first">The first of the two events (the one counted).</param>
    public static bool IsClosedDuringSetup(LogEvent e, out bool first)
    {
        first = false;
        if (e is not Error || !e.LogSource.Contains("/system/IO-TCP/", StringComparison.Ordinal)) return false;
        if (e.Cause is SocketException { SocketErrorCode: SocketError.NotConnected }) return first = true;
        return e.Cause is PostRestartException { OriginalCause: SocketException { SocketErrorCode: SocketError.NotConnected } };
    }

    // A port that is taken is reported once, by the failure policy's own line (RoleFailure);
    // Akka.IO's ERROR for the same bind (with its exception line) would only repeat it.
    private static bool IsBindFailure(LogEvent e) =>
        e is Error && e.LogSource.Contains("/system/IO-TCP/", StringComparison.Ordinal)
        && e.Message?.ToString()?.StartsWith("Bind failed for TCP channel", StringComparison.Ordinal) == true;
}
