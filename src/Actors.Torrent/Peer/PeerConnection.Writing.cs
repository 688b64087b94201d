using System.Buffers;
using System.Diagnostics;
using Actors.Torrent.Peer.Storage;
using Actors.Torrent.Peer.Wire;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Torrent.Peer;

// Acked writes, batched; closing; read suspension.
public sealed partial class PeerConnection
{
    // ---- Writing -------------------------------------------------------------------------

    private void Send(byte[] bytes)
    {
        _outbox.Enqueue(new Outgoing(bytes));
        Flush();
    }

    private void Flush()
    {
        while (_writesInFlight < MaxWritesInFlight && _outbox.Count > 0 && !_connection.IsNobody())
        {
            // Everything queued travels together, blocks included, up to a batch: the socket
            // gets few large writes, and the arrays are wrapped, never copied.
            var parts = new List<ArraySegment<byte>>();
            List<byte[]>? blocks = null;
            var size = 0;
            do
            {
                var next = _outbox.Dequeue();
                parts.Add(next.Bytes);
                if (next.Block.Array is { } buffer)
                {
                    parts.Add(next.Block);
                    (blocks ??= []).Add(buffer);
                }
                size += next.Length;
            } while (_outbox.Count > 0 && size + _outbox.Peek().Length <= MaxBatchBytes);
            _writesInFlight++;
            _lastWrite = Stopwatch.GetTimestamp();
            _connection.Tell(Tcp.Write.Create(ByteString.FromBytes(parts), new Ack(blocks ?? [])));
        }
    }

    private void Writes()
    {
        Receive<Ack>(ack =>
        {
            _writesInFlight--;
            _blocksQueued -= ack.Blocks.Count;
            // Acknowledged: the socket has the bytes (Akka.IO acks once the send completed), so the
            // blocks' buffers are free. Until then Akka.IO's write still points into them.
            foreach (var block in ack.Blocks) ArrayPool<byte>.Shared.Return(block);
            Flush();
            PumpUploads();
        });
    }

    // ---- Closing -------------------------------------------------------------------------

    private bool Drop(string reason)
    {
        _log.Info("Dropping {0}: {1}", Who, reason);
        if (!_connection.IsNobody()) _connection.Tell(Tcp.Abort.Instance);
        Context.Stop(Self);
        return false;
    }

    private void ConnectionEvents()
    {
        Receive<Tcp.ConnectionClosed>(closed =>
        {
            _log.Debug("{0} closed the connection ({1})", Who, closed.Cause ?? "normally");
            Context.Stop(Self);
        });
        Receive<Tcp.CommandFailed>(failed =>
        {
            _log.Debug("{0}: {1}", Who, failed.CauseString);
            Context.Stop(Self);
        });
        Receive<Terminated>(_ => Context.Stop(Self));
    }

    private void SuspendReading()
    {
        if (_readingSuspended) return;
        _readingSuspended = true;
        _connection.Tell(Tcp.SuspendReading.Instance);
    }

    private void ResumeReading()
    {
        if (!_readingSuspended) return;
        _readingSuspended = false;
        _connection.Tell(Tcp.ResumeReading.Instance);
    }
}
