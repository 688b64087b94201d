using Actors.Net.Tcp;
using Actors.Torrent.Peer.Announce;
using Actors.Torrent.Peer.Picking;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

/// <summary>Blocks in, pieces verified by storage, peers that send bad data distrusted, completion.</summary>
public sealed partial class TorrentActor
{
    private void OnBlockReceived(BlockReceived block)
    {
        try
        {
            OnBlock(block);
        }
        finally
        {
            // The block is in its piece now (or not wanted): its pooled array is free.
            WireDecoder.ReturnBlock(block.Data);
        }
    }

    private void OnBlock(BlockReceived block)
    {
        if (!_peers.TryGetValue(Sender, out var peer)) return;
        var outcome = _picker.BlockReceived(Sender, block.Index, block.Begin, block.Data);
        if (!outcome.Accepted) return;
        StartStatsTicks();
        _downloaded += block.Data.Length;
        _downWindow += block.Data.Length;
        peer.DownWindow += block.Data.Length;
        peer.Downloaded += block.Data.Length;
        if (peer.Has.IsComplete) _fromSeeds += block.Data.Length;
        else _fromPeers += block.Data.Length;
        foreach (var other in outcome.AlsoRequestedFrom)
            ((IActorRef)other).Tell(new CancelBlock(new BlockRequest(block.Index, block.Begin, block.Data.Length)));
        if (outcome.CompletedPiece is { } data)
        {
            // The piece's pooled array goes with it: storage gives it back.
            _verifying[block.Index] = outcome.Contributors;
            _storage.Tell(new StorageActor.StorePiece(block.Index, data));
        }
    }

    private void OnPieceStored(StorageActor.PieceStored stored)
    {
        _verifying.Remove(stored.Index, out var contributors);
        if (!stored.Valid)
        {
            _picker.PieceFailed(stored.Index);
            foreach (var c in contributors ?? [])
            {
                var connection = (IActorRef)c;
                if (_peers.TryGetValue(connection, out var peer)) Distrust(connection, peer, stored.Index, contributors!.Count == 1 ? 2 : 1);
            }
            return;
        }
        _picker.PieceVerified(stored.Index);
        foreach (var (connection, peer) in _peers)
        {
            connection.Tell(new AnnounceHave(stored.Index));
            UpdateInterest(connection, peer);
        }
        if (IsComplete) OnComplete();
        else PublishProgress();
    }

    private void Distrust(IActorRef connection, PeerState peer, int index, int points)
    {
        var id = Convert.ToHexString(peer.PeerId);
        var strikes = _strikes[id] = _strikes.GetValueOrDefault(id) + points;
        _log.Warning("Piece {0} failed its hash check; {1} has {2} strike(s)", index, Endpoints.Format(peer.Remote), strikes);
        if (strikes < _settings.StrikesToBan) return;
        _banned.Add(id);
        _banned.Add(peer.Remote.ToString());
        connection.Tell(new Disconnect($"banned after {strikes} bad pieces"));
    }

    private void OnComplete()
    {
        _log.Info("{0} complete: {1} pieces verified; seeding", _settings.Torrent.Name, _settings.Torrent.PieceCount);
        _totalsSent = Totals();
        _announcer.Tell(_totalsSent); // left = 0 in the completed announce, whenever the last stats tick was
        _announcer.Tell(new Announcer.AnnounceNow(AnnounceEvent.Completed));
        var progress = Progress();
        foreach (var watcher in _completionWatchers) watcher.Tell(new TorrentCompleted(progress));
        _completionWatchers.Clear();
        PublishProgress();
        foreach (var (connection, peer) in _peers)
        {
            if (peer.Has.IsComplete) connection.Tell(new Disconnect("both seeding"));
            else UpdateInterest(connection, peer);
        }
    }
}
