using System.Diagnostics;
using Actors.Torrent.Peer.Choking;
using Actors.Torrent.Peer.Seeding;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

/// <summary>
/// Choking, and how a seed spends its upload: tit-for-tat while we leech, turns (round robin) while
/// we seed, and BEP 16 super-seeding when asked (<see cref="TorrentSettings.SuperSeed"/>); a
/// leecher leaves to other leechers what they can give it, so that a seed's bytes go to pieces the
/// swarm lacks.
/// </summary>
public sealed partial class TorrentActor
{
    /// <summary>Non-null while super-seeding: only a torrent complete when it starts listening super-seeds.</summary>
    private SuperSeeder? _superSeeder;
    /// <summary>A peer that announced no piece for this long gets nothing from the others: a super-seed may repeat pieces for it.</summary>
    private static readonly TimeSpan StarvingAfter = TimeSpan.FromSeconds(5);
    /// <summary>Regular upload slots (plus one optimistic or one more turn): more while a capped upload is not used up.</summary>
    private int _uploadSlots = Choker.RegularSlots;

    private void StartSeedingMode()
    {
        if (!_settings.SuperSeed || !IsComplete) return;
        _superSeeder = new SuperSeeder(_settings.Torrent.PieceCount);
        _log.Info("{0}: super-seeding (BEP 16): each peer is shown pieces one at a time", _settings.Torrent.Name);
    }

    /// <summary>What a new peer is told we have: everything, or nothing at all while super-seeding (pieces are then revealed one by one).</summary>
    private PieceSet PiecesToShow() =>
        _superSeeder is null ? _picker.Have.Clone() : new PieceSet(_settings.Torrent.PieceCount);

    /// <summary>
    /// Whether the peer wants anything from us. A super-seed shows a peer only the pieces it may
    /// fetch now, so a peer that lacks anything counts: it becomes interested once unchoked and shown some.
    /// </summary>
    private bool WantsFromUs(PeerState peer) =>
        _superSeeder is null ? peer.PeerInterested : !peer.Has.IsComplete;

    private void UnchokeIfFree(IActorRef connection, PeerState peer)
    {
        if (WantsFromUs(peer) && peer.AmChoking && Choker.HasFreeSlot(_peers.Values.Count(p => !p.AmChoking), _uploadSlots))
            SetChoking(connection, peer, false);
    }

    private void OnInterestChanged(IActorRef connection, PeerState peer)
    {
        UnchokeIfFree(connection, peer);
        FreeSlotIfDone(connection, peer);
    }

    /// <summary>
    /// A seed's unchoked peer that wants nothing more (not interested, or complete) gives its slot
    /// at once to the peer that waited longest, instead of holding it until the next round (10 s).
    /// </summary>
    private void FreeSlotIfDone(IActorRef connection, PeerState peer)
    {
        if (!IsComplete || peer.AmChoking || WantsFromUs(peer)) return;
        SetChoking(connection, peer, true);
        var next = _peers.Where(p => p.Value.AmChoking && WantsFromUs(p.Value)).OrderBy(p => p.Value.ChokeChangedAt).FirstOrDefault();
        if (next.Key is not null) UnchokeIfFree(next.Key, next.Value);
    }

    private void SetChoking(IActorRef connection, PeerState peer, bool choking)
    {
        if (peer.AmChoking == choking) return;
        peer.AmChoking = choking;
        peer.ChokeChangedAt = Stopwatch.GetTimestamp();
        if (!choking) peer.UploadedAtUnchoke = peer.Uploaded;
        connection.Tell(new SetChoking(choking));
        if (_superSeeder is null) return;
        // Reveals go with the unchoke (the peer can fetch them at once); a choked peer's go back to the pool.
        if (choking) _superSeeder.Withdraw(connection);
        else Reveal(connection, peer);
    }

    private void RunChoker()
    {
        IReadOnlySet<object> unchoke;
        if (!_peers.Values.Any(p => p.AmChoking && WantsFromUs(p))) _uploadSlots = Choker.RegularSlots;
        if (IsComplete)
        {
            // Turns of about four pieces each (at least 256 KiB): every leecher gets something fresh to trade.
            var quota = Math.Max(256 * 1024L, 4L * _settings.Torrent.PieceLength);
            unchoke = Choker.SeedRound(_peers.Select(p => new ChokeCandidate(p.Key, WantsFromUs(p.Value), p.Value.UpRate)
            {
                Unchoked = !p.Value.AmChoking,
                Since = p.Value.ChokeChangedAt,
                UploadedSinceUnchoke = p.Value.Uploaded - p.Value.UploadedAtUnchoke,
            }).ToArray(), quota, _uploadSlots);
        }
        else
        {
            unchoke = _choker.Round(_peers.Select(p => new ChokeCandidate(p.Key, p.Value.PeerInterested, p.Value.DownRate)).ToArray(), _uploadSlots);
        }
        foreach (var (connection, peer) in _peers)
            SetChoking(connection, peer, !unchoke.Contains(connection));
        // A super-seed's unchoked peer that got no piece from anyone for a while may be shown pieces others hold.
        if (_superSeeder is not null)
            foreach (var (connection, peer) in _peers.Where(p => !p.Value.AmChoking))
                Reveal(connection, peer);
    }

    /// <summary>
    /// Every second (stats tick): a peer whose capped upload is not used up while interested peers
    /// wait opens a slot (<see cref="Choker.ShouldOpenSlot"/>): a leecher for the one that gave us
    /// most, a seed for the one that waited longest (its turns go on with more slots). A seed whose
    /// five unchoked leechers pull slowly (busy with others, or on a loaded machine) otherwise sent
    /// a tenth of its cap while pieces only it held waited (a 1,000-peer Lab swarm: 2–90 KiB/s of
    /// 256). Slots fall back to the BEP 3 four at a round where nobody waits.
    /// </summary>
    private void OpenSlotIfUploadUnused()
    {
        var waiting = _peers.Where(p => p.Value.AmChoking && WantsFromUs(p.Value)).ToArray();
        if (!Choker.ShouldOpenSlot(_uploadSlots, _upRate, _settings.MaxUploadRate, waiting.Length > 0)) return;
        _uploadSlots++;
        var (connection, peer) = IsComplete ? waiting.MinBy(p => p.Value.ChokeChangedAt) : waiting.MaxBy(p => p.Value.DownRate);
        SetChoking(connection, peer, false);
    }

    // ---- Super-seeding (BEP 16) ----------------------------------------------------------

    private void Reveal(IActorRef connection, PeerState peer)
    {
        var starving = Stopwatch.GetElapsedTime(peer.LastPieceAt) > StarvingAfter;
        foreach (var index in _superSeeder!.Reveal(connection, peer.Has, allowRepeats: starving))
            connection.Tell(new AnnounceHave(index));
    }

    /// <summary>The peer's bitfield (or have-all / have-none): availability, and reveals it turns out to hold.</summary>
    private void SuperSeedPieces(IActorRef connection, PeerState peer, PieceSet before)
    {
        if (_superSeeder is null) return;
        if (peer.Has.Count > before.Count) peer.LastPieceAt = Stopwatch.GetTimestamp();
        _superSeeder.PeerPieces(connection, before, peer.Has);
        if (peer.AmChoking) UnchokeIfFree(connection, peer);
        else Reveal(connection, peer);
    }

    /// <summary>A peer that fetched a piece it was shown is shown the next one.</summary>
    private void SuperSeedHave(IActorRef connection, PeerState peer, int index)
    {
        if (_superSeeder is null) return;
        peer.LastPieceAt = Stopwatch.GetTimestamp();
        if (_superSeeder.PeerHas(connection, index) && !peer.AmChoking) Reveal(connection, peer);
        FreeSlotIfDone(connection, peer);
    }

    // ---- Leeching: a seed's upload is for what nobody else can give ----------------------

    /// <summary>
    /// For a seed: the pieces non-seeds that unchoke us hold, which the picker then fetches from
    /// them rather than from the seed (the end-game too: duplicates go to them). Null for others.
    /// </summary>
    private PieceSet? LeaveToOthers(PeerState from)
    {
        if (!from.Has.IsComplete) return null;
        var elsewhere = new PieceSet(_settings.Torrent.PieceCount);
        foreach (var other in _peers.Values)
            if (!other.PeerChoking && !other.Has.IsComplete && !other.Has.IsEmpty) elsewhere.UnionWith(other.Has);
        return elsewhere;
    }
}
