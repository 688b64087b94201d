using System.Diagnostics;
using System.Net;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

/// <summary>Peer exchange (BEP 11): what the torrent learns from its peers and tells them.</summary>
public sealed partial class TorrentActor
{
    // ---- Peer exchange (BEP 11) ------------------------------------------------------------

    /// <summary>How often due PEX messages are looked for; each peer still gets one at most every <see cref="TorrentSettings.PexInterval"/>.</summary>
    private TimeSpan PexCheck => _settings.PexInterval < TimeSpan.FromSeconds(5) ? _settings.PexInterval : TimeSpan.FromSeconds(5);

    private void OnPeersExchanged(PeersExchanged exchanged)
    {
        if (!_peers.ContainsKey(Sender)) return;
        foreach (var added in exchanged.Added)
        {
            var endPoint = new IPEndPoint(Endpoints.Normalize(added.EndPoint.Address), added.EndPoint.Port);
            if (IsSelf(endPoint) || _banned.Contains(endPoint.ToString())) continue;
            if (_peers.Values.Any(p => endPoint.Equals(p.ListenEndPoint) || endPoint.Equals(p.Remote)) || _dialing.ContainsValue(endPoint)) continue;
            // The set only counts distinct addresses for figures: bounded too, however long a peer keeps inventing them.
            if (!AddFreshCandidate(endPoint)) continue;
            if (_pexLearned.Count < 10 * MaxCandidates && _pexLearned.Add(endPoint))
                _log.Debug("{0}: learned {1} by PEX", _settings.Torrent.Name, Endpoints.Format(endPoint));
        }
        ConnectMore();
    }

    /// <summary>
    /// Tells each PEX-speaking peer, at most once per interval, which peers we are connected to
    /// (where they listen) and which we dropped since our last message: at most 50 of each (BEP 11).
    /// </summary>
    private void SendPexUpdates()
    {
        var now = Stopwatch.GetTimestamp();
        var connected = _peers.Values.Where(p => p.ListenEndPoint is not null)
            .ToDictionary(p => p.ListenEndPoint!, p => p);
        foreach (var (connection, peer) in _peers)
        {
            if (!peer.SupportsPex || now < peer.NextPexAt) continue;
            peer.NextPexAt = now + (long)(_settings.PexInterval.TotalSeconds * Stopwatch.Frequency);
            var added = connected
                .Where(c => !c.Value.Equals(peer) && !peer.PexSent.Contains(c.Key))
                .Take(Extensions.PexMessage.MaxPeersPerMessage)
                .Select(c => new Extensions.PexPeer(c.Key, (byte)((c.Value.Has.IsComplete ? Extensions.PexPeer.Seed : 0)
                    | (WeDialled(c.Value) ? Extensions.PexPeer.Reachable : 0))))
                .ToArray();
            var dropped = peer.PexSent.Where(e => !connected.ContainsKey(e)).Take(Extensions.PexMessage.MaxPeersPerMessage).ToArray();
            if (added.Length == 0 && dropped.Length == 0) continue;
            foreach (var a in added) peer.PexSent.Add(a.EndPoint);
            foreach (var d in dropped) peer.PexSent.Remove(d);
            connection.Tell(new SendPex(added, dropped));
        }
    }

    /// <summary>We reached this peer by dialling its listen address: it is reachable (PEX flag 0x10).</summary>
    private static bool WeDialled(PeerState peer) => peer.ListenEndPoint is not null && peer.ListenEndPoint.Equals(peer.Remote);
}
