using System.Diagnostics;
using Actors.Net.Tcp;
using Actors.Net.Telemetry;
using Actors.Web.Http;
using Actors.Web.Telemetry;
using Akka.Actor;
using Akka.Event;
using Akka.IO;

namespace Actors.Web.Server;

/// <summary>Writing responses: the head, file bodies in chunks within the write window, and streamed responses.</summary>
public sealed partial class HttpConnection
{
    // ---- A streamed response (Server-Sent Events), paced by write acks -----------------------

    private void OnStreamStart(HttpStreamStart start)
    {
        if (_phase != Phase.AwaitingHandler || _request is null) return; // late, after a 503
        var source = Sender;
        // One read outstanding while streaming, so a client that goes away is seen at once (PeerClosed).
        AskToRead();
        var head = new HttpResponseHead(start.Status).Header("Content-Type", start.ContentType);
        foreach (var (name, value) in start.Headers ?? [])
            head.Header(name, value);
        // No Content-Length: the body ends when the connection closes (RFC 9112 §6.3).
        head.Header("Date", CurrentDate.Value).Header("Server", "actors").Header("Connection", "close");
        _phase = Phase.Streaming;
        _streamSource = source;
        Context.Watch(source);
        WriteStreamed(ByteString.FromBytes(head.Encode()));
    }

    /// <summary>
    /// Every write is acked, and the source hears <see cref="HttpStreamChunkWritten"/> once all are
    /// (the head's included), so at most one chunk waits; a client that stops reading is cut off at
    /// the write timeout.
    /// </summary>
    private bool Streaming(object message)
    {
        switch (message)
        {
            case WriteAck:
                if (_ackMarks.TryDequeue(out var mark)) _confirmed = mark;
                if (Unconfirmed > 0) return true;
                if (_streamEnding) Close();
                else _streamSource!.Tell(HttpStreamChunkWritten.Instance);
                return true;
            case HttpStreamChunk chunk:
                WriteStreamed(ByteString.FromBytes(chunk.Data));
                return true;
            case HttpStreamEnd:
                EndStream();
                return true;
            case Terminated terminated when terminated.ActorRef.Equals(_streamSource):
                EndStream();
                return true;
            case Tick:
                OnTick();
                return true;
            case Akka.IO.Tcp.Received:
                // Bytes from a client being streamed to mean nothing: dropped, and the next read asked
                // for so that its going away is still seen.
                _readAsked = false;
                AskToRead();
                return true;
            // Before ConnectionEvent: PeerClosed is a ConnectionClosed.
            case Akka.IO.Tcp.PeerClosed:
                Close();
                return true;
            default:
                return ConnectionEvent(message);
        }
    }

    private void EndStream()
    {
        _streamEnding = true;
        if (Unconfirmed == 0) Close();
    }

    private void WriteStreamed(ByteString data)
    {
        Write(data, ack: true);
        SetDeadline(Deadline.Write, _settings.WriteTimeout);
    }

    // ---- Writing a response ----------------------------------------------------------------

    /// <summary>Writes the head and as much of the body as the budget allows; finishes at once when all of it was handed over.</summary>
    private void StartResponse(HttpRequest? request, ResponsePlan plan, bool close, bool replanned = false)
    {
        if (request is null) _startedAt = Stopwatch.GetTimestamp();
        _request = request;
        _plan = plan;
        _closeAfterResponse = close || request?.Version == Http.HttpVersion.Http10 && !request.KeepAlive;

        plan.Head.Header("Date", CurrentDate.Value).Header("Server", "actors");
        if (_closeAfterResponse) plan.Head.Header("Connection", "close");
        else if (request?.Version == Http.HttpVersion.Http10) plan.Head.Header("Connection", "keep-alive");
        var head = plan.Head.Encode();
        _phase = Phase.Writing;

        if (plan.SendBody && plan.File is { Length: > 0 } slice)
        {
            try
            {
                // Read-ahead advice (an fadvise call) only pays for bodies longer than one chunk.
                var options = slice.Length > _settings.ChunkSize ? FileOptions.SequentialScan : FileOptions.None;
                _file = File.OpenHandle(slice.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, options);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The file vanished or became unreadable between planning and opening.
                Log.Warning("Cannot open {0}: {1}", slice.Path, ex.Message);
                StartResponse(request, ResponsePlan.Error(ex is UnauthorizedAccessException ? 403 : 404), close);
                return;
            }
            if (!slice.Describes(_file))
            {
                // Renamed over or rewritten between the stat that built the head and this open:
                // answer from what is there now, once; a file that keeps changing gets a 503.
                _file.Dispose();
                _file = null;
                if (request is not null && !replanned)
                    StartResponse(request, _files.Plan(request), close, replanned: true);
                else
                    StartResponse(request, ResponsePlan.Error(503), close);
                return;
            }
            _fileNext = slice.Offset;
            _fileEnd = slice.Offset + slice.Length;
            // The head travels with the first chunk: one write for a small file.
            FillWriteWindow(head);
        }
        else
        {
            var body = plan.SendBody ? plan.Body : ReadOnlyMemory<byte>.Empty;
            var bytes = new byte[head.Length + body.Length];
            head.CopyTo(bytes, 0);
            body.Span.CopyTo(bytes.AsSpan(head.Length));
            Write(ByteString.FromBytes(bytes), ack: false);
        }
        if (_phase == Phase.Writing && _file is null) FinishResponse();
    }

    private void OnWriteAck()
    {
        if (_ackMarks.TryDequeue(out var mark)) _confirmed = mark;
        if (_phase == Phase.Writing)
        {
            FillWriteWindow();
            if (_phase == Phase.Writing && _file is null) FinishResponse();
        }
        if (_phase == Phase.Idle) ProcessRequests();
    }

    private void FillWriteWindow(byte[]? head = null)
    {
        // The first chunk always goes (it carries the head); then at most two chunks unconfirmed.
        while (_file is not null && (head is not null || !OverWriteBudget))
        {
            var prefix = head?.Length ?? 0;
            var size = (int)Math.Min(_settings.ChunkSize, _fileEnd - _fileNext);
            // A fresh array per chunk: Akka.IO holds it until the bytes reach the socket.
            var chunk = new byte[prefix + size];
            head?.CopyTo(chunk, 0);
            head = null;
            var read = RandomAccess.Read(_file, chunk.AsSpan(prefix), _fileNext);
            if (read <= 0)
            {
                // The file shrank under us: the promised Content-Length cannot be met, so the
                // only honest signal left is to abort the connection.
                Log.Warning("{0} shrank while being sent; aborting the connection", _plan?.File?.Path);
                Abort();
                return;
            }
            _fileNext += read;
            var last = _fileNext >= _fileEnd;
            if (last)
            {
                _file.Dispose();
                _file = null;
            }
            // A response that is one write needs no ack of its own; a streamed body acks every chunk.
            Write(ByteString.FromBytes(chunk, 0, prefix + read), ack: !(last && prefix > 0));
        }
        if (_file is not null) SetDeadline(Deadline.Write, _settings.WriteTimeout);
    }

    private void Write(ByteString data, bool ack)
    {
        _written += data.Count;
        NetMetrics.BytesSent.Add(data.Count);
        if (ack || _written - _lastAckMark >= _settings.ChunkSize / 2)
        {
            _lastAckMark = _written;
            _ackMarks.Enqueue(_written);
            _connection.Tell(Akka.IO.Tcp.Write.Create(data, WriteAck.Instance));
        }
        else
        {
            _connection.Tell(Akka.IO.Tcp.Write.Create(data));
        }
    }

    private void FinishResponse()
    {
        if (_plan is not null) WebMetrics.Answered(_plan.Status);
        LogAccess();
        _request = null;
        _plan = null;
        if (_closeAfterResponse)
        {
            // Akka.IO finishes the writes it holds before it closes.
            Close();
            return;
        }
        _phase = Phase.Idle;
        // The caller goes on with ProcessRequests: pipelined requests, or back to reading.
    }

    private void LogAccess()
    {
        if (!_settings.AccessLog || _plan is null) return;
        var elapsed = Stopwatch.GetElapsedTime(_startedAt).TotalMilliseconds;
        var line = _request is null ? "-" : $"{_request.Method} {_request.Target} {(_request.Version == Http.HttpVersion.Http10 ? "HTTP/1.0" : "HTTP/1.1")}";
        Log.Info("{0} \"{1}\" {2} {3} {4:F1}ms", Endpoints.Format(_remote), line, _plan.Status,
            _plan.SendBody ? _plan.BodyLength : 0, elapsed);
    }
}
