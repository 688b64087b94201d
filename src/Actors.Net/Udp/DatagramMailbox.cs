using Actors.Net.Configuration;
using Actors.Net.Logging;
using Actors.Net.Supervision;
using Actors.Net.Telemetry;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using Akka.Event;

namespace Actors.Net.Udp;

/// <summary>
/// The mailbox of every actor that Akka.IO hands UDP datagrams to (the BEP 15 tracker, the DHT
/// node, the peer's UDP announcer, a call's media path): a <see cref="DatagramQueue"/> that keeps
/// at most <c>max-queued-datagrams</c> <c>Udp.Received</c> waiting and drops the rest, counted
/// and logged once per <c>drop-log-interval</c> with the count. Nothing else is ever dropped.
/// </summary>
/// <remarks>
/// Use: the handler's Props factory returns <c>DatagramMailbox.Select(props)</c>, and whoever
/// creates it calls <see cref="Ensure"/> with the system first (it adds the defaults below unless
/// the configuration has them, once per system, and fails with the key's name on a bad value).
/// Without <see cref="Ensure"/> and without the HOCON block, <c>ActorOf</c> fails with
/// "Mailbox Type [actors.udp.datagram-mailbox] not configured": loud, never unbounded. The
/// handler reads its drop count with <see cref="QueueOf"/>.
/// </remarks>
public sealed class DatagramMailbox : MailboxType, IProducesMessageQueue<DatagramQueue>
{
    /// <summary>The HOCON path of this mailbox, also its id for <c>Props.WithMailbox</c>.</summary>
    public const string Id = "actors.udp.datagram-mailbox";

    /// <summary>
    /// Each queued datagram holds its bytes (at most the UDP buffer pool's buffer-size, 2 KiB in
    /// our configs) and ~200 bytes of envelope: 4096 of them stay under ~9 MiB, and at the rates a
    /// handler reaches (10^4–10^5 datagrams/s) they are well under a second of work.
    /// </summary>
    public const int DefaultBound = 4096;

    public static readonly Config DefaultConfig = ConfigurationFactory.ParseString($$"""
        {{Id}} {
          mailbox-type = "{{typeof(DatagramMailbox).FullName}}, {{typeof(DatagramMailbox).Assembly.GetName().Name}}"
          max-queued-datagrams = {{DefaultBound}}
          drop-log-interval = 10s
        }
        """);

    private readonly int _bound;
    private readonly TimeSpan _logInterval;

    /// <summary>Made by Akka (reflection, the constructor every <see cref="MailboxType"/> has), once per system.</summary>
    public DatagramMailbox(Settings settings, Config config) : base(settings, config) =>
        (_bound, _logInterval) = Read(settings.Config);

    public override IMessageQueue Create(IActorRef owner, ActorSystem system)
    {
        // Enqueue runs on Akka.IO's listener thread: the logger and LogEvery are both thread-safe.
        var log = Akka.Event.Logging.GetLogger(system, owner.Path.ToString());
        var every = new LogEvery(_logInterval);
        var bound = _bound;
        return new DatagramQueue(bound, total =>
        {
            NetMetrics.DatagramsDropped.Add(1);
            if (every.ShouldLog(out var count))
                log.Warning("Dropped {0} UDP datagrams ({1} in all): {2} were already waiting for this handler ({3}.max-queued-datagrams)",
                    count, total, bound, Id);
        });
    }

    /// <summary>The same <paramref name="props"/> on this mailbox.</summary>
    public static Props Select(Props props) => props.WithMailbox(Id);

    /// <summary>
    /// Makes <paramref name="system"/> know this mailbox (the defaults, under any value the
    /// configuration sets) and checks the values; once per system, cheap after that.
    /// </summary>
    /// <exception cref="FatalRoleException">A value is wrong; the message names its key.</exception>
    public static void Ensure(ActorSystem system) => system.WithExtension<Installed, InstalledProvider>();

    /// <summary>The queue of the calling actor when it runs on this mailbox, else null.</summary>
    public static DatagramQueue? QueueOf(IActorContext context) =>
        (context as ActorCell)?.Mailbox?.MessageQueue as DatagramQueue;

    private static (int Bound, TimeSpan LogInterval) Read(Config config)
    {
        try
        {
            var reader = new SettingsReader(config, Id);
            return (reader.Int("max-queued-datagrams", 1, 1 << 24),
                reader.Duration("drop-log-interval", TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1)));
        }
        catch (SettingsException e)
        {
            throw new FatalRoleException($"bad configuration: {e.Message}", e);
        }
    }

    /// <summary>The extension whose one creation per system installs the defaults.</summary>
    private sealed class Installed : IExtension;

    private sealed class InstalledProvider : ExtensionIdProvider<Installed>
    {
        public override Installed CreateExtension(ExtendedActorSystem system)
        {
            // Injecting rebuilds the system's config (and reloads dispatchers): only when missing.
            if (!system.Settings.Config.HasPath(Id + ".mailbox-type"))
                system.Settings.InjectTopLevelFallback(DefaultConfig);
            Read(system.Settings.Config);
            return new Installed();
        }
    }
}
