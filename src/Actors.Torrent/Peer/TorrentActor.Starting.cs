using System.Net;
using Actors.Net.Scheduling;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Peer.Storage;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

/// <summary>Starting: what is on disk (resume), then the listener (retried while descriptors run out), then the periodic ticks.</summary>
public sealed partial class TorrentActor
{
    // ---- Checking what is on disk, then binding the listener -----------------------------

    private void Checking()
    {
        Receive<StorageActor.PiecesChecked>(checkedPieces =>
        {
            _picker.SetHave(checkedPieces.Have);
            _log.Info("{0}: {1}/{2} pieces already on disk", _settings.Torrent.Name, checkedPieces.Have.Count, _settings.Torrent.PieceCount);
            Bind();
        });
        Receive<RetryBind>(_ => Bind());
        Receive<Terminated>(terminated =>
        {
            if (!terminated.ActorRef.Equals(_listener)) return;
            // Could not listen (no descriptors, port taken): try again later, never give up the torrent.
            _bindBackoff = _bindBackoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1)
                : TimeSpan.FromTicks(Math.Min(_budget.Limits.MaxBackoff.Ticks, _bindBackoff.Ticks * 2));
            if (_budget.ExhaustionLog.ShouldLog(out var count))
                _log.Warning("{0}: cannot listen on port {1}; retrying in {2:F0} s ({3} such failures since the last warning)",
                    _settings.Torrent.Name, _settings.Port, _bindBackoff.TotalSeconds, count);
            Timers.StartSingleTimer(RetryBind.Instance, RetryBind.Instance, _bindBackoff);
        });
        Receive<TcpServer.Listening>(listening =>
        {
            Context.Unwatch(_listener);
            _port = ((IPEndPoint)listening.LocalAddress).Port;
            // Connections made from now on tell peers our port (extended handshake), so PEX can share us.
            _context = _context with { ListenPort = _port };
            if (_settings.UseTrackers && _settings.Torrent.TrackerTiers.Count > 0)
                _announcer = Context.ActorOf(Announcer.Props(_settings.Torrent, _settings.PeerId, _settings.AnnouncePort > 0 ? _settings.AnnouncePort : _port, _http, Totals()), "announcer");
            foreach (var peer in _settings.InitialPeers) _candidates.Add(peer);
            StartSeedingMode();
            // Periodic work on the process's wheel, not a timer each: thousands of torrents per process.
            // The stats tick runs only while data moves (StartStatsTicks).
            _ticks.Tell(new TickWheel.Subscribe(Self, ChokeTick.Instance, ChokeEvery));
            _ticks.Tell(new TickWheel.Subscribe(Self, ConnectTick.Instance, ConnectEvery));
            if (!_settings.Torrent.IsPrivate) _ticks.Tell(new TickWheel.Subscribe(Self, PexTick.Instance, PexCheck));
            Become(Running);
            Stash.UnstashAll();
            ConnectMore();
            if (IsComplete) OnComplete();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Bind()
    {
        _listener = Context.ActorOf(TcpServer.Props(new TcpServerSettings(_settings.Host, _settings.Port, _settings.MaxPeers * 2),
            (connection, remote, _) => PeerConnection.Inbound(connection, remote, _context)));
        Context.Watch(_listener);
        _listener.Tell(TcpServer.GetListening.Instance);
    }
}
