using Actors.Net.Scheduling;
using Actors.Net.Tcp;
using Actors.Torrent.Peer.Announce;
using Akka.Actor;

namespace Actors.Torrent.Peer;

/// <summary>The torrent's figures: rates (ticking only while data moves), totals for the announcer, progress for its subscribers, exchanges per peer.</summary>
public sealed partial class TorrentActor
{
    private void OnStatsTick()
    {
        // Idle (nothing moved this second and the rates have decayed): nothing to compute, nothing
        // to tell. Thousands of idle torrents per process tick here every second.
        if (_downWindow == 0 && _upWindow == 0 && _downRate < 1 && _upRate < 1)
        {
            _downRate = _upRate = 0;
            foreach (var peer in _peers.Values) peer.DownRate = peer.UpRate = peer.DownWindow = peer.UpWindow = 0;
            // Nothing moves: no more ticks until a block does (StartStatsTicks).
            _ticks.Tell(new TickWheel.Unsubscribe(Self, StatsTick.Instance));
            _statsTicking = false;
            PublishProgress();
            return;
        }
        _downRate = 0.7 * _downRate + 0.3 * _downWindow;
        _upRate = 0.7 * _upRate + 0.3 * _upWindow;
        _downWindow = _upWindow = 0;
        foreach (var peer in _peers.Values)
        {
            peer.DownRate = 0.7 * peer.DownRate + 0.3 * peer.DownWindow;
            peer.UpRate = 0.7 * peer.UpRate + 0.3 * peer.UpWindow;
            peer.DownWindow = peer.UpWindow = 0;
        }
        OpenSlotIfUploadUnused();
        PublishProgress();
        var totals = Totals();
        if (totals == _totalsSent) return;
        _totalsSent = totals;
        _announcer.Tell(totals);
    }

    /// <summary>Rates are computed once a second while blocks move either way, and not at all while idle.</summary>
    private void StartStatsTicks()
    {
        if (_statsTicking) return;
        _statsTicking = true;
        _ticks.Tell(new TickWheel.Subscribe(Self, StatsTick.Instance, StatsEvery));
    }

    /// <summary>Tells the progress subscribers when it changed since they last heard.</summary>
    private void PublishProgress()
    {
        if (_progressSubscribers.Count == 0) return;
        var progress = Progress();
        // The bitfield changes only with PiecesHave; a fresh copy each time is not a change.
        if (_progressSent is { } sent && progress with { Bitfield = sent.Bitfield } == sent) return;
        _progressSent = progress;
        foreach (var (subscriber, tag) in _progressSubscribers) subscriber.Tell(new ProgressChanged(tag, progress));
    }

    private void RememberExchange(PeerState peer)
    {
        if (peer.Uploaded == 0 && peer.Downloaded == 0) return;
        var id = Convert.ToHexString(peer.PeerId);
        var before = _pastExchanges.GetValueOrDefault(id);
        if (before is null && _pastExchanges.Count >= MaxPastExchanges) _pastExchanges.Remove(_pastExchanges.Keys.First());
        _pastExchanges[id] = new PeerExchange(id, Endpoints.Format(peer.Remote), (before?.Uploaded ?? 0) + peer.Uploaded,
            (before?.Downloaded ?? 0) + peer.Downloaded, false);
    }

    private TorrentExchanges Exchanges()
    {
        var all = new Dictionary<string, PeerExchange>(_pastExchanges, StringComparer.Ordinal);
        foreach (var peer in _peers.Values)
        {
            var id = Convert.ToHexString(peer.PeerId);
            var before = all.GetValueOrDefault(id);
            all[id] = new PeerExchange(id, Endpoints.Format(peer.Remote), (before?.Uploaded ?? 0) + peer.Uploaded, (before?.Downloaded ?? 0) + peer.Downloaded, true);
        }
        return new TorrentExchanges(Convert.ToHexString(_settings.PeerId), all.Values.ToList());
    }

    private Announcer.Totals Totals() => new(_uploaded, _downloaded, Left);

    private TorrentProgress Progress() => new(_picker.Have.Count, _settings.Torrent.PieceCount, _downloaded, _uploaded,
        _downRate, _upRate, _peers.Count, IsComplete, _fromSeeds, _fromPeers, _banned.Count / 2, _port)
    {
        PexLearned = _pexLearned.Count,
        Bitfield = _picker.Have.ToWire(),
    };
}
