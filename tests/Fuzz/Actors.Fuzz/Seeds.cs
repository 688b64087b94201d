using System.Text;
using Actors.Calls.Caller;
using Actors.Calls.Protocol;
using Actors.Torrent.Bencode;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Dht;
using Actors.Torrent.Peer.Wire;
using Actors.Torrent.Tracker;

namespace Actors.Fuzz;

/// <summary>Small valid inputs per target, built with our own encoders: afl-fuzz's starting corpus.</summary>
public static class Seeds
{
    public static IReadOnlyList<byte[]> For(string target) => target switch
    {
        "http-request" => Text(
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /a%20b?x=1&y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            "PUT /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            "OPTIONS * HTTP/1.1\nHost: a\n\n",
            "GET http://example.org/x?q HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0, 0\r\n\r\n"),
        "http-response" => Text(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n0\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n",
            "HTTP/1.1 404\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
        "chunked" => Text(
            "5\r\nhello\r\n0\r\n\r\n",
            "1;ext=1\r\na\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n",
            "0000f \t;a\nabcdefghijklmno\n0\n\n"),
        "bencode" => Text("i42e", "i-3e", "4:spam", "0:", "le", "l4:spami-3ee", "d3:cow3:moo4:spaml1:a1:bee", "d1:ad1:bli0eeee"),
        "metainfo" => [SingleFileTorrent(), MultiFileTorrent()],
        "tracker-query" => Text(
            "info_hash=" + Hex20(0x12) + "&peer_id=-AZ2060-abcdefghijkl&port=6881&uploaded=0&downloaded=0&left=10&event=started&compact=1&numwant=5&ip=127.0.0.1&key=k",
            "info_hash=" + Hex20(0xab) + "&peer_id=" + Hex20(0x01) + "&port=1&left=0&event=completed&no_peer_id=1&numwant=-1&ip=%3A%3A1",
            "info_hash=" + Hex20(0x12) + "&info_hash=" + Hex20(0x13) + "&x=%20+"),
        "udp-tracker" => UdpTracker(),
        "peer-wire" => [Wire()],
        "extended-handshake" => [new ExtensionHandshake
        {
            Messages = new Dictionary<string, byte> { ["ut_metadata"] = 2, ["ut_pex"] = 1 },
            MetadataSize = 31_235, ListenPort = 6881, Client = "Actors 0.1", RequestQueue = 512, YourIp = System.Net.IPAddress.Loopback,
        }.Encode(), Encoding.ASCII.GetBytes("d1:md11:ut_metadatai9e6:ut_pexi8ee13:metadata_sizei0e1:pi46882e1:v12:aria2/1.36.0e")],
        "ut-metadata" => [new MetadataMessage.Request(0).Encode(), new MetadataMessage.Reject(3).Encode(),
            new MetadataMessage.Data(1, 16_400, new byte[16]).Encode()],
        "ut-pex" => [new PexMessage([new PexPeer(System.Net.IPEndPoint.Parse("10.0.0.1:6881"), PexPeer.Seed),
            new PexPeer(System.Net.IPEndPoint.Parse("[2001:db8::1]:51413"))], [System.Net.IPEndPoint.Parse("10.0.0.2:1")]).Encode()],
        "call-frame" => [CallFrames(), FrameCodec.Encode(new Media(7, 123456, [1, 2, 3]))[FrameCodec.HeaderSize..]],
        "call-udp" => UdpDatagrams(),
        "wav" => [WavAudio.Generate(8000, 1, TimeSpan.FromMilliseconds(3)), WavAudio.Generate(48000, 2, TimeSpan.FromMilliseconds(1)), WavWithListChunk()],
        "krpc" => Krpc(),
        _ => throw new ArgumentException($"no target {target}", nameof(target)),
    };

    private static byte[][] UdpTracker()
    {
        var request = new Actors.Torrent.Peer.Announce.AnnounceRequest(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray(),
            Encoding.ASCII.GetBytes("-AR1360-abcdefghijkl"), 6881, 1, 2, 3, Actors.Torrent.Peer.Announce.AnnounceEvent.Started, 50);
        var scrape = new byte[16 + 40];
        Actors.Torrent.Peer.Announce.UdpTrackerAnnounce.AnnounceRequest(42, 7, request, 9)[..16].CopyTo(scrape, 0);
        scrape[11] = 2; // action: scrape
        var peers = new[] { new SwarmPeer(new string('a', 40), System.Net.IPAddress.Parse("10.0.0.1"), 6881) };
        return
        [
            Actors.Torrent.Peer.Announce.UdpTrackerAnnounce.ConnectRequest(5),
            Actors.Torrent.Peer.Announce.UdpTrackerAnnounce.AnnounceRequest(42, 7, request, 9),
            scrape,
            Actors.Torrent.Tracker.Udp.UdpTrackerPackets.AnnounceAnswer(7, TimeSpan.FromMinutes(30), 1, 2, peers, ipv6: false),
            Actors.Torrent.Tracker.Udp.UdpTrackerPackets.ErrorAnswer(7, "unknown event")!,
        ];
    }

    private static byte[][] UdpDatagrams()
    {
        var codec = new UdpMediaCodec(FuzzTargets.UdpKey());
        return
        [
            codec.Encode(new UdpDatagram(UdpKind.Hello, UdpSender.Caller, 1, 0, 0, [])),
            codec.Encode(new UdpDatagram(UdpKind.Media, UdpSender.Callee, 2, 7, 123456, [1, 2, 3, 4])),
            codec.Encode(new UdpDatagram(UdpKind.Ping, UdpSender.Caller, 3, 0, 42, [])),
            codec.Encode(new UdpDatagram(UdpKind.Pong, UdpSender.Callee, 4, 0, 42, [])),
        ];
    }

    private static byte[][] Text(params string[] inputs) => inputs.Select(Encoding.Latin1.GetBytes).ToArray();

    private static string Hex20(byte start) =>
        TrackerQuery.Encode(Enumerable.Range(start, 20).Select(i => (byte)i).ToArray());

    private static byte[] Pieces(int count) => Enumerable.Range(0, count * 20).Select(i => (byte)i).ToArray();

    private static byte[] SingleFileTorrent() => BencodeEncoder.Encode(new BDictionaryBuilder()
        .Add("announce", "http://127.0.0.1:6969/announce")
        .Add("creation date", 1700000000)
        .Add("info", new BDictionaryBuilder().Add("length", 20000).Add("name", "a.txt").Add("piece length", 16384).Add("pieces", Pieces(2)))
        .Build());

    private static byte[] MultiFileTorrent()
    {
        BValue File(long length, params string[] path) => new BDictionaryBuilder()
            .Add("length", length).Add("path", new BList(path.Select(p => (BValue)BString.From(p)).ToArray())).Build();
        return BencodeEncoder.Encode(new BDictionaryBuilder()
            .Add("announce-list", new BList([new BList([BString.From("http://a/announce")]), new BList([BString.From("udp://b:1")])]))
            .Add("comment", "seed")
            .Add("info", new BDictionaryBuilder()
                .Add("files", new BList([File(3, "d", "x"), File(0, "e"), File(5, "d", "y")]))
                .Add("name", "dir").Add("piece length", 4).Add("pieces", Pieces(2)).Add("private", 1))
            .Build());
    }

    private static byte[] Wire()
    {
        var stream = new MemoryStream();
        stream.Write(new Handshake(new byte[8], Enumerable.Repeat((byte)1, 20).ToArray(), Enumerable.Repeat((byte)2, 20).ToArray()).Encode());
        foreach (var message in new WireMessage[]
        {
            WireMessage.HaveNone.Instance, new WireMessage.AllowedFast(3), new WireMessage.Suggest(4), new WireMessage.Reject(1, 0, 16384),
            new WireMessage.Extended(0, Encoding.ASCII.GetBytes("d1:md6:ut_pexi1eee")),
            new WireMessage.Bitfield([0xff, 0x00, 0x0f, 0xf0, 0xe0]), WireMessage.Interested.Instance, WireMessage.Unchoke.Instance,
            new WireMessage.Have(36), new WireMessage.Request(1, 0, 16384), new WireMessage.Cancel(1, 0, 16384),
            new WireMessage.Piece(2, 16, new byte[] { 9, 8, 7 }), WireMessage.KeepAlive.Instance, WireMessage.Choke.Instance,
            new WireMessage.Port(6881),
        })
            stream.Write(WireEncoder.Encode(message));
        stream.Write([0, 0, 0, 3, 20, 0, 0]); // an extended message (id 20): skipped
        stream.Write(WireEncoder.Encode(WireMessage.NotInterested.Instance));
        return stream.ToArray();
    }

    private static byte[] CallFrames()
    {
        var stream = new MemoryStream();
        foreach (var message in new CallMessage[]
        {
            new Hello(1, "caller/1"), new Challenge([1, 2, 3, 4]), new Register("alice", [5, 6], 7000),
            new Registered("alice", "127.0.0.1", 7000), new ReachabilityResult(true, "127.0.0.1", 7001),
            new Refused(RefusalCode.Busy, "busy"), new PlaceCall("c1", "bob"), new Ring("c1", "alice"), new Accept("c1"),
            new Connect("c1", PathKind.Relay, PathRole.Dial, "127.0.0.1", 7100, "tok"), new CallEnded("c1", CallOutcome.HungUp, "bye"),
            new Ping(42), new Join("c1", "tok", "alice"), new Text("héllo"), new Bye("done"),
        })
            stream.Write(FrameCodec.Encode(message));
        return stream.ToArray();
    }

    private static byte[] WavWithListChunk()
    {
        var wav = WavAudio.Generate(16000, 1, TimeSpan.FromMilliseconds(2));
        // RIFF header, fmt chunk (24 bytes), then an odd-sized LIST chunk (padded), then data.
        byte[] list = [.. "LIST"u8, 3, 0, 0, 0, (byte)'a', (byte)'b', (byte)'c', 0];
        var result = new byte[wav.Length + list.Length];
        wav.AsSpan(0, 36).CopyTo(result);
        list.CopyTo(result, 36);
        wav.AsSpan(36).CopyTo(result.AsSpan(36 + list.Length));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)(result.Length - 8));
        return result;
    }

    private static byte[][] Krpc()
    {
        var id = NodeId.FromBytes(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
        var hash = NodeId.FromBytes(Enumerable.Range(100, 20).Select(i => (byte)i).ToArray());
        var tid = new byte[] { 0, 1 };
        var peer = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 6881);
        return
        [
            KrpcCodec.Encode(new PingQuery(tid, id)),
            KrpcCodec.Encode(new FindNodeQuery(tid, id, hash)),
            KrpcCodec.Encode(new GetPeersQuery(tid, id, hash)),
            KrpcCodec.Encode(new AnnouncePeerQuery(tid, id, hash, 6881, true, [1, 2, 3, 4])),
            KrpcCodec.Encode(new KrpcResponse(tid, id, [new NodeContact(hash, peer), new NodeContact(id, peer)], [peer], [9, 9])),
            KrpcCodec.Encode(new KrpcError(tid, KrpcError.Protocol, "bad token")),
        ];
    }
}
