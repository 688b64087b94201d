using System.Diagnostics;
using System.Net;
using Actors.Net.Tcp;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

/// <summary>The torrent's connections: whom to dial within the process's budget, whom to shed, whom to dial again.</summary>
public sealed partial class TorrentActor
{
    private bool IsSelf(IPEndPoint peer) =>
        peer.Port == _port && (IPAddress.IsLoopback(peer.Address) || peer.Address.Equals(IPAddress.Any) || LocalAddresses.Contains(peer.Address));

    /// <summary>
    /// This machine's addresses, read at most once a minute for the whole process: listing the
    /// interfaces reads /proc and /sys, and every announce answer names us (1,000 torrents: 100/s).
    /// </summary>
    private static IReadOnlySet<IPAddress> LocalAddresses
    {
        get
        {
            var cached = _localAddresses;
            if (cached is not null && Stopwatch.GetElapsedTime(cached.At) < TimeSpan.FromMinutes(1)) return cached.Addresses;
            var addresses = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToHashSet();
            // One immutable snapshot swapped whole: torrents on other threads read it without a lock.
            _localAddresses = new LocalAddressSnapshot(addresses, Stopwatch.GetTimestamp());
            return addresses;
        }
    }

    private sealed record LocalAddressSnapshot(HashSet<IPAddress> Addresses, long At);
    private static volatile LocalAddressSnapshot? _localAddresses;

    /// <summary>Connections this torrent aims for: its fair share of the process's budget, at most max-peers.</summary>
    private int Target => _budget.FairShare(_settings.MaxPeers);

    /// <summary>Connections above which a newcomer is refused (or let in on probation): its fair share when the budget is tight, else max-peers.</summary>
    private int Limit => _budget.IsTight ? Target : _settings.MaxPeers;

    /// <summary>
    /// An address just learned (tracker, DHT, PEX): a candidate, dialled before the ones known
    /// already. At most <see cref="MaxCandidates"/> wait, whoever keeps sending new ones.
    /// </summary>
    /// <returns>false when it was known already or there is no room.</returns>
    private bool AddFreshCandidate(IPEndPoint peer)
    {
        if (_candidates.Count >= MaxCandidates || !_candidates.Add(peer)) return false;
        _freshCandidates.Add(peer);
        return true;
    }

    private void ConnectMore()
    {
        // A seeder dials too: leechers whose slots are full of peers with nothing would otherwise
        // find it only when the tracker's random sample happens to name it.
        if (_candidates.Count == 0) return;
        var target = Target;
        // Starving while the tracker counts a seeder: a few addresses just learned are dialled even
        // above the limit (on probation, see OnHandshaken), since one of them may be that seeder.
        if (!IsComplete && _trackerSeeders > 0 && _freshCandidates.Count > 0 && !_peers.Values.Any(p => p.AmInterested))
            target = Math.Max(target, _peers.Count + Math.Min(ProbationSlots, _freshCandidates.Count) - _peers.Values.Count(p => p.OnProbation));
        var now = Stopwatch.GetTimestamp();
        // Addresses just learned first: in a swarm whose slots are all taken by peers with nothing,
        // a late seeder is the one new address, and would otherwise wait its turn behind hundreds.
        var ordered = _freshCandidates.Count == 0 ? _candidates.ToArray()
            : _freshCandidates.Concat(_candidates.Where(c => !_freshCandidates.Contains(c))).ToArray();
        foreach (var candidate in ordered)
        {
            if (_peers.Count + _dialing.Count >= target) break;
            if (_retryAt.TryGetValue(candidate, out var retry) && retry.Due > now) continue;
            if (_banned.Contains(candidate.ToString()) || _dialing.ContainsValue(candidate)
                || _peers.Values.Any(p => p.Remote.Equals(candidate)))
            {
                _candidates.Remove(candidate);
                _freshCandidates.Remove(candidate);
                continue;
            }
            // The process's budget, half-open limit or connect rate says not now: a slot coming back
            // wakes us (DialSlotFree), or else the next connect tick tries again.
            if (!_budget.TryStartDial())
            {
                _budget.WakeWhenDialSlotFrees(Self);
                break;
            }
            _candidates.Remove(candidate);
            _freshCandidates.Remove(candidate);
            var connection = Context.ActorOf(PeerConnection.Outbound(candidate, _context));
            Context.Watch(connection);
            _dialing[connection] = candidate;
        }
    }

    private void OnDialFailed(DialFailed failed)
    {
        _dialing.Remove(Sender); // its Terminated must not make the address a candidate again: handled here
        var failures = _retryAt.TryGetValue(failed.Remote, out var before) ? before.Failures + 1 : 1;
        // Out of descriptors or ports is the machine's fault, not the address's: it stays a candidate.
        if (failed.OutOfResources) failures = Math.Max(1, failures - 1);
        if (failures > MaxDialFailures)
        {
            _retryAt.Remove(failed.Remote);
            return;
        }
        var wait = TimeSpan.FromSeconds(5 * (1 << (failures - 1))); // 5, 10, 20, 40 s
        _retryAt[failed.Remote] = (Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * Stopwatch.Frequency), failures);
        _candidates.Add(failed.Remote);
    }

    /// <summary>Newcomers a full torrent lets in at once to see whether they have pieces it wants.</summary>
    private const int ProbationSlots = 2;

    /// <summary>How long a newcomer on probation has to show a piece we want (its bitfield comes right after the handshake).</summary>
    private static readonly TimeSpan ProbationTime = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A newcomer on probation that has pieces we want keeps its connection, and the least useful
    /// other peer (nothing flowing to us) leaves to bring the torrent back to its limit.
    /// </summary>
    private void EndProbationIfUseful(IActorRef connection, PeerState peer)
    {
        if (!peer.OnProbation || !peer.AmInterested) return;
        peer.OnProbation = false;
        if (_peers.Count <= Limit) return;
        var leaving = LeastUseful(_peers.Where(p => !p.Key.Equals(connection) && !p.Value.OnProbation)).FirstOrDefault();
        // Every other peer carries data: one above the limit, bounded by the probation slots.
        if (leaving.Connection is not null) Shed(leaving.Connection, leaving.Peer, "making room for a peer with pieces we want");
    }

    /// <summary>Newcomers whose probation ran out without a piece we want leave.</summary>
    private void EndExpiredProbations()
    {
        foreach (var (connection, peer) in _peers)
            if (peer.OnProbation && Stopwatch.GetElapsedTime(peer.Since) > ProbationTime)
            {
                peer.OnProbation = false;
                connection.Tell(new Disconnect("too many peers"));
            }
    }

    /// <summary>
    /// When the process's budget is tight, or the torrent is at its own limit, a torrent closes
    /// connections where neither side is interested (they only hold sockets: a swarm that starts
    /// without a seeder would otherwise fill every slot and never let the seeder in), and, above
    /// its fair share, its least useful ones too
    /// (a few per tick), so that torrents below theirs can connect to peers that have data.
    /// Connections that carry data either way are kept. A shed address is not dialled again soon.
    /// </summary>
    private void ShedUseless()
    {
        EndExpiredProbations();
        var target = Target;
        if (_peers.Count == 0 || !_budget.IsTight && _peers.Count + _dialing.Count < target) return;
        var excess = _budget.IsTight ? _peers.Count - target : 0;
        var uselessAfter = WaitingForFirstSeeder ? _budget.Limits.UselessAfter * QuietSheddingSlower : _budget.Limits.UselessAfter;
        // A new connection is not judged before it had time to exchange bitfields and interest.
        var judged = LeastUseful(_peers.Where(p => Stopwatch.GetElapsedTime(p.Value.Since) > uselessAfter)).ToArray();
        var shed = judged.Where(p => p.Score == 0).Concat(judged.Where(p => p.Score > 0).Take(Math.Max(0, excess)))
            .Take(4).ToArray();
        foreach (var (connection, peer, _) in shed) Shed(connection, peer, "connection budget is tight: keeping more useful peers");
    }

    /// <summary>Peers nothing flows to us from (usefulness under 4), least useful first, the slowest first among equals.</summary>
    private IEnumerable<(IActorRef Connection, PeerState Peer, int Score)> LeastUseful(IEnumerable<KeyValuePair<IActorRef, PeerState>> peers) =>
        peers.Select(p => (Connection: p.Key, Peer: p.Value, Score: Usefulness(p.Value)))
            .Where(p => p.Score < 4)
            .OrderBy(p => p.Score).ThenBy(p => p.Peer.DownRate + p.Peer.UpRate);

    /// <summary>Closes a connection to make room; its address is not dialled again for redial-after.</summary>
    private void Shed(IActorRef connection, PeerState peer, string reason)
    {
        var later = Stopwatch.GetTimestamp() + (long)(_budget.Limits.RedialAfter.TotalSeconds * Stopwatch.Frequency);
        _retryAt[peer.Remote] = (later, _retryAt.TryGetValue(peer.Remote, out var r) ? r.Failures : 0);
        connection.Tell(new Disconnect(reason));
    }

    /// <summary>
    /// A swarm that has not got its data yet, as far as we can see: the tracker counts no seeder, we
    /// hold no piece, and no peer we are connected to does. Trading one empty peer for another would
    /// mostly change nothing (with 1,000 such torrents in a process: ~100 new connections a second),
    /// so useless connections are shed <see cref="QuietSheddingSlower"/> times later, until the tracker
    /// counts a seeder or a peer holds a piece. Not never: pieces may be out there (a seeder that left
    /// after seeding part of the swarm), held by peers we would not meet otherwise. The torrent still
    /// asks the tracker for peers while starving (every 10 s): that answer is how it learns of a seeder.
    /// </summary>
    private const int QuietSheddingSlower = 6;

    private bool WaitingForFirstSeeder =>
        _trackerSeeders == 0 && _picker.Have.Count == 0 && _peers.Values.All(p => p.Has.IsEmpty);

    /// <summary>Higher is more useful: data flowing to us, data flowing from us, interest, rare pieces.</summary>
    private int Usefulness(PeerState peer)
    {
        var score = 0;
        if (peer.AmInterested && !peer.PeerChoking) score += 8;
        if (peer.PeerInterested && !peer.AmChoking) score += 4;
        if (peer.AmInterested) score += 2;
        if (peer.PeerInterested) score += 1;
        if (peer.AmInterested && _picker.HoldsRarePiece(peer.Has, 2)) score += 1;
        // A peer that gave us data is a source even while we want nothing of what it shows now: a
        // super-seed (BEP 16) shows a piece at a time, so between two we are not interested in it.
        if (peer.Downloaded > 0) score += 2;
        return score;
    }

    private void OnHandshaken(PeerHandshaken handshaken)
    {
        var id = Convert.ToHexString(handshaken.PeerId);
        var dialed = _dialing.Remove(Sender, out var dialedAddress);
        var full = _peers.Count >= Limit;
        // A full leecher still lets a few newcomers show their pieces (a late seeder dialling a
        // swarm whose every slot holds a peer with nothing would otherwise be refused by all of
        // them); one with pieces we want takes the slot of a useless peer (EndProbationIfUseful).
        // A peer we dialled above the limit (ConnectMore, starving) is on probation too.
        var probation = full && !IsComplete && (dialed || _peers.Values.Count(p => p.OnProbation) < ProbationSlots);
        var twin = _peers.FirstOrDefault(p => p.Value.PeerId.AsSpan().SequenceEqual(handshaken.PeerId));
        // Both peers dialled each other at once (each learnt the other from the DHT or the tracker
        // in the same second): each side would keep the connection that handshook first and drop
        // the other, and the two sides may choose differently and lose both. Both keep the one
        // dialled by the peer with the smaller id, the same one at either end.
        if (twin.Key is not null && WeDialled(twin.Value) != dialed && dialed == WeDialFirst(handshaken.PeerId))
        {
            twin.Key.Tell(new Disconnect("already connected (keeping the connection the smaller peer id dialled)"));
            twin = default;
        }
        string? refusal =
            _banned.Contains(id) || _banned.Contains(handshaken.Remote.ToString()) ? "banned"
            : twin.Key is not null ? "already connected"
            : full && !dialed && !probation ? "too many peers"
            : null;
        if (refusal is not null)
        {
            Sender.Tell(new Disconnect(refusal));
            return;
        }
        // Outbound peers are known by the address we dialled (their listening port).
        var remote = dialed ? dialedAddress! : handshaken.Remote;
        if (dialed) _retryAt.Remove(remote);
        _peers[Sender] = new PeerState(handshaken.PeerId, remote, new PieceSet(_settings.Torrent.PieceCount))
        {
            ListenEndPoint = dialed ? remote : null,
            OnProbation = probation,
        };
        Context.Watch(Sender);
        Sender.Tell(new Welcome(PiecesToShow()));
        _picker.Rarity.Peers = _peers.Count;
        UnchokeIfFree(Sender, _peers[Sender]);
        _log.Debug("Peer {0} ({1}) joined; {2} peers", Endpoints.Format(remote), handshaken.Outbound ? "out" : "in", _peers.Count);
    }

    /// <summary>Of two connections with one peer, the one we dialled is kept when our id is the smaller.</summary>
    private bool WeDialFirst(byte[] theirId) => _settings.PeerId.AsSpan().SequenceCompareTo(theirId) < 0;

    private void OnTerminated(Terminated terminated)
    {
        if (_dialing.Remove(terminated.ActorRef, out var dialled))
        {
            TryAgainLater(dialled);
            return;
        }
        if (!_peers.Remove(terminated.ActorRef, out var peer)) return;
        _picker.Rarity.Peers = _peers.Count;
        _picker.PeerRemoved(terminated.ActorRef, peer.Has);
        _superSeeder?.PeerLeft(terminated.ActorRef, peer.Has);
        RememberExchange(peer);
        if (!peer.AmChoking) RunChoker();
        if (peer.ListenEndPoint is { } listening) TryAgainLater(listening);
    }

    /// <summary>
    /// A peer we lost (it refused us for want of sockets, we shed it, the connection dropped) may
    /// still hold what we need, so its address stays a candidate, dialled again after a pause. Without
    /// this a tight budget could drain every address a torrent knew, and it would wait for the
    /// tracker's next answer (minutes) or forever when there is no tracker. A dial that failed was
    /// already handled by <see cref="OnDialFailed"/>, which gives up after a few failures.
    /// </summary>
    private void TryAgainLater(IPEndPoint address)
    {
        if (IsComplete || _banned.Contains(address.ToString()) || _candidates.Count >= MaxCandidates) return;
        if (!_retryAt.ContainsKey(address))
            _retryAt[address] = (Stopwatch.GetTimestamp() + (long)(_budget.Limits.RedialAfter.TotalSeconds * Stopwatch.Frequency), 0);
        _candidates.Add(address);
    }
}
