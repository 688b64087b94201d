using System.Buffers;
using System.Diagnostics;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Peer;

// Serving the peer's requests: bounded reads from storage, bounded blocks queued for the socket.
public sealed partial class PeerConnection
{
    // ---- Uploading -----------------------------------------------------------------------

    private bool OnPeerRequest(WireMessage.Request request)
    {
        if (request.Length is <= 0 or > WireLimits.BlockLength)
            return Drop($"request of {request.Length} bytes");
        if (!_ourPieces[request.Index])
            return Drop($"request for piece {request.Index}, which we do not have");
        if ((long)request.Begin + request.Length > _context.Torrent.PieceSize(request.Index))
            return Drop($"request beyond the end of piece {request.Index}");
        if (_amChoking && !_allowedFast.Contains(request.Index))
        {
            // Sent before our choke arrived (BEP 3: ignored), or, with the Fast extension, rejected explicitly.
            if (_fast) Send(WireEncoder.Encode(new WireMessage.Reject(request.Index, request.Begin, request.Length)));
            return true;
        }
        if (_peerRequests.Count >= MaxPeerRequests)
            return Drop($"more than {MaxPeerRequests} requests queued");
        _peerRequests.Enqueue(request);
        TickFast(true);
        // Requests come in batches (one read of the socket decodes dozens): storage is asked once
        // the whole read is handled, one ReadBlocks for all of them (see Handle).
        _requestsArrived = true;
        return true;
    }

    private void PumpUploads()
    {
        List<StorageActor.BlockAt>? reads = null;
        // Reads in flight count as queued blocks: their data will be written soon.
        while ((!_amChoking || _allowedFast.Count > 0) && _readsInFlight < MaxReadsInFlight && _blocksQueued + _readsInFlight < MaxBlocksQueued
               && _peerRequests.Count > 0)
        {
            var next = _peerRequests.Peek();
            if (_amChoking && !_allowedFast.Contains(next.Index))
            {
                _peerRequests.Dequeue();
                RejectIfFast(next.Index, next.Begin, next.Length);
                continue;
            }
            var urgent = _context.Rarity?.IsRare(next.Index) == true;
            var wait = _context.Upload.Delay(next.Length, urgent);
            if (wait > TimeSpan.Zero)
            {
                if (!urgent && RareRequestFirst()) continue;
                if (!Timers.IsTimerActive(UploadReady.Instance))
                    Timers.StartSingleTimer(UploadReady.Instance, UploadReady.Instance, wait);
                break;
            }
            _peerRequests.Dequeue();
            _context.Upload.Take(next.Length);
            _readsInFlight++;
            (reads ??= []).Add(new StorageActor.BlockAt(next.Index, next.Begin, next.Length));
        }
        // One message for all of them: storage reads blocks that follow each other at once.
        if (reads is not null) _context.Storage.Tell(new StorageActor.ReadBlocks(reads));
    }

    /// <summary>
    /// Moves the peer's first request for a rare piece to the head of its queue: that one may go
    /// ahead of the other connections' requests (<see cref="Picking.PieceRarity"/>). False when there is none.
    /// </summary>
    private bool RareRequestFirst()
    {
        if (_context.Rarity is not { } rarity || _peerRequests.Count < 2) return false;
        // Looked for without copying: a capped upload asks this at every wait.
        int position = 0, rare = -1;
        foreach (var request in _peerRequests)
        {
            if (position > 0 && rarity.IsRare(request.Index)) { rare = position; break; }
            position++;
        }
        if (rare < 0) return false;
        var queued = _peerRequests.ToArray();
        _peerRequests.Clear();
        _peerRequests.Enqueue(queued[rare]);
        for (var i = 0; i < queued.Length; i++)
            if (i != rare) _peerRequests.Enqueue(queued[i]);
        return true;
    }

    private void OnBlocksRead(StorageActor.BlocksRead answer)
    {
        _readsInFlight -= answer.Read.Count + answer.Failed.Count;
        if (answer.Failed.Count > 0)
        {
            foreach (var read in answer.Read) ArrayPool<byte>.Shared.Return(read.Data.Array!);
            var failed = answer.Failed[0];
            Drop($"cannot read piece {failed.Index}: {failed.Reason}");
            return;
        }
        var uploaded = 0;
        foreach (var read in answer.Read)
        {
            if (!_amChoking || _allowedFast.Contains(read.Index))
            {
                _blocksQueued++;
                _outbox.Enqueue(new Outgoing(WireEncoder.PieceHeader(read.Index, read.Begin, read.Data.Count), read.Data));
                uploaded += read.Data.Count;
            }
            else
            {
                ArrayPool<byte>.Shared.Return(read.Data.Array!);
                RejectIfFast(read.Index, read.Begin, read.Data.Count);
            }
        }
        // The blocks travel together (Flush batches the outbox) and are counted once.
        if (uploaded > 0)
        {
            Flush();
            _context.TorrentActor.Tell(new BlockUploaded(uploaded));
        }
        PumpUploads();
    }

    /// <summary>BEP 3: choking discards the peer's pending requests; BEP 6: each one is rejected explicitly (allowed-fast ones stay).</summary>
    private void DiscardRequestsOnChoke()
    {
        if (_peerRequests.Count == 0) return;
        var pending = _peerRequests.ToArray();
        _peerRequests.Clear();
        foreach (var r in pending)
        {
            if (_allowedFast.Contains(r.Index)) _peerRequests.Enqueue(r);
            else RejectIfFast(r.Index, r.Begin, r.Length);
        }
    }

    private void RejectIfFast(int index, int begin, int length)
    {
        if (_fast) Send(WireEncoder.Encode(new WireMessage.Reject(index, begin, length)));
    }
}
