using System.Net;
using Akka.Actor;
using Akka.IO;

namespace Actors.Torrent.Dht;

// Incoming datagrams: rate-limited per source, parsed, then answered (queries) or routed to whoever
// asked (responses, errors); every contact seen updates the routing table.
public sealed partial class DhtNode
{
    // ---- receiving ----------------------------------------------------------------------------

    private void OnDatagram(Udp.Received received)
    {
        _received++;
        var from = CompactEncoding.Normalize((IPEndPoint)received.Sender);
        var now = DateTime.UtcNow;
        if (received.Data.Count > KrpcCodec.MaxPacketBytes || !_limiter.Allow(from, now))
        {
            _dropped++;
            return;
        }
        KrpcMessage message;
        try
        {
            message = KrpcCodec.Decode(received.Data.ToArray());
        }
        catch (KrpcException ex)
        {
            _dropped++;
            if (ex.IsQuery && ex.TransactionId is { } tid) Send(new KrpcError(tid, KrpcError.Protocol, ex.Reason), from);
            return;
        }
        switch (message)
        {
            case KrpcQuery query:
                OnQuery(query, from, now);
                break;
            case KrpcResponse response:
                OnResponse(response, from, now);
                break;
            case KrpcError error:
                OnError(error, from);
                break;
        }
    }

    private void OnQuery(KrpcQuery query, IPEndPoint from, DateTime now)
    {
        if (query.Sender != _id) Observe(new NodeContact(query.Sender, from), now, responded: false);
        KrpcMessage answer = query switch
        {
            PingQuery => KrpcResponse.Simple(query.TransactionId, _id),
            FindNodeQuery f => new KrpcResponse(query.TransactionId, _id, _table.Closest(f.Target, _settings.K, now), [], null),
            GetPeersQuery g => AnswerGetPeers(g, from, now),
            AnnouncePeerQuery a => AnswerAnnounce(a, from, now),
            _ => new KrpcError(query.TransactionId, KrpcError.MethodUnknown, $"method unknown: {query.Method}"),
        };
        Send(answer, from);
    }

    private KrpcResponse AnswerGetPeers(GetPeersQuery query, IPEndPoint from, DateTime now)
    {
        var token = _tokens.Issue(from.Address);
        var peers = _peers.Get(query.InfoHash, KrpcCodec.MaxValuesPerResponse, now);
        // With peers we answer "values"; the closest nodes come too, so the asker can go on.
        return new KrpcResponse(query.TransactionId, _id, _table.Closest(query.InfoHash, _settings.K, now), peers, token);
    }

    private KrpcMessage AnswerAnnounce(AnnouncePeerQuery query, IPEndPoint from, DateTime now)
    {
        if (!_tokens.IsValid(from.Address, query.Token)) return new KrpcError(query.TransactionId, KrpcError.Protocol, "bad token");
        var port = query.ImpliedPort ? from.Port : query.Port;
        _peers.Add(query.InfoHash, new IPEndPoint(from.Address, port), now);
        return KrpcResponse.Simple(query.TransactionId, _id);
    }

    private void OnResponse(KrpcResponse response, IPEndPoint from, DateTime now)
    {
        if (TakePending(response.TransactionId, from) is not { } pending) return;
        if (pending.ExpectedId is { } expected && expected != response.Sender) _table.Remove(expected); // the address now has another node
        _pinging.Remove(response.Sender);
        if (response.Sender != _id) Observe(new NodeContact(response.Sender, from), now, responded: true);
        pending.Requester.Tell(new QueryAnswered(from, response));
    }

    private void OnError(KrpcError error, IPEndPoint from)
    {
        if (TakePending(error.TransactionId, from) is not { } pending) return;
        pending.Requester.Tell(new QueryFailed(from, $"error {error.Code}: {error.Message}"));
    }

    /// <summary>The query this answers, if its transaction id is ours and it comes from where we sent it.</summary>
    private Pending? TakePending(byte[] tidBytes, IPEndPoint from)
    {
        if (tidBytes.Length != 2) return null;
        var tid = (ushort)((tidBytes[0] << 8) | tidBytes[1]);
        if (!_outstanding.TryGetValue(tid, out var pending) || !pending.To.Equals(from)) return null;
        _outstanding.Remove(tid);
        Timers.Cancel(tid);
        return pending;
    }

    private void Observe(NodeContact contact, DateTime now, bool responded)
    {
        var result = _table.Observe(contact, now, responded);
        if (result.PingCandidate is { } candidate) Ping(candidate);
    }
}
