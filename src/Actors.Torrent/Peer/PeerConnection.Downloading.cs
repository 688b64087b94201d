using System.Diagnostics;
using Actors.Net.Scheduling;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;

namespace Actors.Torrent.Peer;

// Asking the torrent for blocks, a request pipeline whose depth follows the peer's rate, and the tick
// that times requests out, keeps the connection alive and drops it when idle.
public sealed partial class PeerConnection
{
    // ---- Downloading ---------------------------------------------------------------------

    private void AskForWork()
    {
        if (!_amInterested || _peerChoking || _askPending) return;
        var room = _depth - _outstanding.Count;
        if (room < Math.Max(1, _depth / 4)) return;
        _askPending = true;
        _context.TorrentActor.Tell(new BlocksWanted(room, Idle: _outstanding.Count == 0));
    }

    private void OnRequestBlocks(RequestBlocks request)
    {
        _askPending = false;
        if (_peerChoking)
        {
            if (request.Blocks.Count > 0) _context.TorrentActor.Tell(new BlocksReturned(request.Blocks));
            return;
        }
        if (_outstanding.Count == 0) _lastBlockAt = Stopwatch.GetTimestamp();
        if (request.Blocks.Count > 0) TickFast(true);
        // All the requests in one message for the writer: 17 bytes each.
        var encoded = new MemoryStream(request.Blocks.Count * 17);
        foreach (var block in request.Blocks)
        {
            if (_outstanding.TryAdd((block.Index, block.Begin), block))
                encoded.Write(WireEncoder.Encode(new WireMessage.Request(block.Index, block.Begin, block.Length)));
        }
        if (encoded.Length > 0) Send(encoded.ToArray());
    }

    private void OnPiece(WireMessage.Piece piece)
    {
        if (!_outstanding.Remove((piece.Index, piece.Begin)))
            return; // cancelled or never asked: ignore, as BEP 3 allows in-flight pieces after a cancel
        _receivedThisSecond += piece.Block.Length;
        _lastBlockAt = Stopwatch.GetTimestamp();
        _context.TorrentActor.Tell(new BlockReceived(piece.Index, piece.Begin, piece.Block));
        AskForWork();
    }

    private void ReturnOutstanding()
    {
        if (_outstanding.Count == 0) return;
        _context.TorrentActor.Tell(new BlocksReturned(_outstanding.Values.ToArray()));
        _outstanding.Clear();
    }

    private void OnTick()
    {
        // Depth follows the rate: about one second of blocks in flight.
        _rate = 0.5 * _rate + 0.5 * _receivedThisSecond;
        _receivedThisSecond = 0;
        _depth = Math.Clamp((int)(_rate / WireLimits.BlockLength) + 2, MinDepth, MaxDepth);
        if (_outstanding.Count > 0 && Stopwatch.GetElapsedTime(_lastBlockAt) > _context.RequestTimeout)
        {
            _log.Info("{0} sent none of {1} requested blocks in {2}: giving them to others", Who, _outstanding.Count, _context.RequestTimeout);
            ReturnOutstanding();
        }
        if (Stopwatch.GetElapsedTime(_lastRead) > _context.IdleTimeout)
        {
            Drop("idle");
            return;
        }
        if (Stopwatch.GetElapsedTime(_lastWrite) > KeepAliveAfter)
            Send(WireEncoder.Encode(WireMessage.KeepAlive.Instance));
        AskForWork();
        // Nothing moving either way: tick rarely (keep-alives and the idle timeout need no more).
        TickFast(_outstanding.Count > 0 || _peerRequests.Count > 0 || _readsInFlight > 0 || _blocksQueued > 0 || _rate >= 1);
    }

    private void TickFast(bool fast)
    {
        if (fast == _ticksFast && _ticking) return;
        _ticksFast = fast;
        _ticking = true;
        var every = fast ? ActiveTick : IdleTick;
        // The process's wheel watches us: nothing to undo when we stop.
        _context.Ticks.Tell(new TickWheel.Subscribe(Self, Tick.Instance, every));
    }
}
