using System.Net;
using Actors.Torrent.Peer.Announce;
using Akka.Actor;

namespace Actors.Torrent.Dht;

/// <summary>
/// The DHT as a source of peers for one torrent, beside (or instead of) its trackers: every
/// <see cref="DhtPeerSourceSettings.Interval"/>, and at once when the torrent says
/// <see cref="Announcer.NeedPeers"/>, it asks the <see cref="DhtNode"/> to announce our TCP port
/// for the info-hash (get_peers then announce_peer) and tells the torrent what the lookup found
/// as <see cref="Announcer.PeersDiscovered"/>: the message the torrent already takes from its
/// tracker announcer, so the torrent needs no DHT code of its own.
/// </summary>
public sealed class DhtPeerSource : ReceiveActor, IWithTimers
{
    private readonly DhtPeerSourceSettings _settings;
    private readonly IActorRef _node;
    private readonly IActorRef _torrent;
    private bool _running;
    private DateTime _last = DateTime.MinValue;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(DhtPeerSourceSettings settings, IActorRef dhtNode, IActorRef torrent) =>
        Akka.Actor.Props.Create(() => new DhtPeerSource(settings, dhtNode, torrent));

    public DhtPeerSource(DhtPeerSourceSettings settings, IActorRef dhtNode, IActorRef torrent)
    {
        _settings = settings;
        _node = dhtNode;
        _torrent = torrent;
        Receive<Tick>(_ => Search());
        Receive<Announcer.NeedPeers>(_ =>
        {
            // Early, but not more than once per MinInterval.
            if (DateTime.UtcNow - _last >= _settings.MinInterval) Search();
        });
        Receive<AnnounceCompleted>(done => Found(done.Lookup));
        Receive<LookupCompleted>(Found);
    }

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("tick", Tick.Instance, _settings.Interval);
        Self.Tell(Tick.Instance);
    }

    private void Search()
    {
        if (_running) return;
        _running = true;
        _last = DateTime.UtcNow;
        if (_settings.Announce) _node.Tell(new AnnouncePeer(_settings.InfoHash, _settings.Port));
        else _node.Tell(new GetPeers(_settings.InfoHash));
    }

    private void Found(LookupCompleted lookup)
    {
        _running = false;
        var peers = lookup.Peers.Where(p => !IsUs(p)).ToList();
        if (peers.Count > 0) _torrent.Tell(new Announcer.PeersDiscovered(peers));
        // Nobody yet (we came first, or the DHT was still forming): look again soon, not in 5 minutes.
        else Timers.StartSingleTimer("retry", Tick.Instance, _settings.RetryWhenEmpty);
    }

    // Our own announcement comes back from the DHT: not a peer to dial.
    private bool IsUs(IPEndPoint peer) => peer.Port == _settings.Port && _settings.OwnAddresses.Any(a => a.Equals(peer.Address));

    private sealed record Tick
    {
        public static Tick Instance { get; } = new();
    }
}

/// <param name="InfoHash">The torrent's info-hash (v1, 20 bytes).</param>
/// <param name="Port">Our TCP port for peers (announced; and skipped when the DHT returns it).</param>
/// <param name="Announce">False: only look (e.g. a private download that wants no inbound peers).</param>
public sealed record DhtPeerSourceSettings(NodeId InfoHash, int Port, bool Announce = true)
{
    /// <summary>Between announces (BEP 5 peers expire after 30 minutes at most nodes).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>When a search found nobody, the next one comes this soon.</summary>
    public TimeSpan RetryWhenEmpty { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Shortest gap between two searches asked for by <see cref="Announcer.NeedPeers"/>.</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Addresses that are ours (loopback by default) for recognising our own announcement.</summary>
    public IReadOnlyList<IPAddress> OwnAddresses { get; init; } = [IPAddress.Loopback, IPAddress.Any];
}
