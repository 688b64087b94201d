using System.Net;
using System.Text;
using Actors.Calls.Caller;
using Actors.Calls.Protocol;
using Actors.Torrent.Bencode;
using Actors.Torrent.Dht;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Extensions;
using Actors.Torrent.Peer.Wire;
using Actors.Torrent.Tracker;
using Actors.Torrent.Tracker.Udp;
using Actors.Torrent.Peer.Announce;
using Actors.Web.Http;
using CallDecodeStatus = Actors.Calls.Protocol.DecodeStatus;
using HttpDecodeStatus = Actors.Web.Http.DecodeStatus;

namespace Actors.Fuzz;

/// <summary>
/// A bug in a codec: it decoded the same bytes differently depending on how they were split, broke
/// a round trip, or allocated out of all proportion to its input. (An exception other than the
/// codec's documented one is a bug too; it simply escapes the target.)
/// </summary>
public sealed class FuzzFindingException(string message) : Exception(message);

/// <summary>
/// One entry point per codec. Each feeds the input to the codec the way our actors do, catches the
/// exception type the codec documents (and its callers handle), and checks a few properties. Anything
/// else that escapes is a finding: afl-fuzz records it as a crash, the replay test fails on it.
/// </summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["http-request"] = HttpRequestTarget,
        ["http-response"] = HttpResponseTarget,
        ["chunked"] = ChunkedTarget,
        ["bencode"] = BencodeTarget,
        ["metainfo"] = MetainfoTarget,
        ["tracker-query"] = TrackerQueryTarget,
        ["udp-tracker"] = UdpTrackerTarget,
        ["peer-wire"] = PeerWireTarget,
        ["extended-handshake"] = ExtendedHandshakeTarget,
        ["ut-metadata"] = UtMetadataTarget,
        ["ut-pex"] = UtPexTarget,
        ["call-frame"] = CallFrameTarget,
        ["wav"] = WavTarget,
        ["krpc"] = KrpcTarget,
        ["call-udp"] = CallUdpTarget,
    };

    public static IReadOnlyCollection<string> Names => Targets.Keys;

    public static bool Exists(string name) => Targets.ContainsKey(name);

    /// <summary>
    /// Runs one input through <paramref name="target"/>. Throws on a finding; returns normally when the
    /// codec decoded the input or refused it with its documented exception.
    /// </summary>
    public static void Run(string target, byte[] input)
    {
        var run = Targets[target];
        var before = GC.GetAllocatedBytesForCurrentThread();
        run(input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var budget = AllocationBudget(input.Length);
        if (allocated > budget)
            throw new FuzzFindingException($"{target} allocated {allocated} bytes for {input.Length} bytes of input (budget {budget})");
    }

    /// <summary>
    /// Every target decodes its input a few times (whole, byte by byte, round trip), and a decoded
    /// value costs some dozens of bytes per input byte; anything past this is not proportional.
    /// </summary>
    public static long AllocationBudget(int inputLength) => 4L * 1024 * 1024 + 512L * inputLength;

    // ---- HTTP ----------------------------------------------------------------------------

    // Small limits, so the fuzzer reaches every limit check with short inputs. (Built per run, not in a
    // static field: instrumented code must not run before SharpFuzz has set up afl's shared memory.)
    private const int SmallMaxBody = 16 * 1024;

    private static HttpLimits SmallHttpLimits() => new(MaxRequestLineBytes: 512, MaxHeaderBytes: 2048, MaxHeaderCount: 16, MaxBodyBytes: SmallMaxBody);

    private static void HttpRequestTarget(byte[] input) =>
        SameWholeAndBytewise("http-request", input, DecodeRequests);

    private static void HttpResponseTarget(byte[] input) =>
        SameWholeAndBytewise("http-response", input, DecodeResponses);

    private static readonly byte[] ChunkedRequestHead = "POST /upload HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();
    private static readonly byte[] ChunkedResponseHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray();

    /// <summary>The input is a chunked body, read by both the request and the response decoder.</summary>
    private static void ChunkedTarget(byte[] input)
    {
        SameWholeAndBytewise("chunked (request)", [.. ChunkedRequestHead, .. input], DecodeRequests);
        SameWholeAndBytewise("chunked (response)", [.. ChunkedResponseHead, .. input], DecodeResponses);
    }

    private static string DecodeRequests(byte[] input, int piece)
    {
        var decoder = new HttpRequestDecoder(SmallHttpLimits());
        var log = new StringBuilder();
        for (var offset = 0; offset < input.Length; offset += piece)
        {
            decoder.Feed(input.AsSpan(offset, Math.Min(piece, input.Length - offset)));
            while (true)
            {
                var status = decoder.Next(out var request, out var error);
                if (status == HttpDecodeStatus.NeedMore) break;
                if (status == HttpDecodeStatus.Error)
                {
                    if (error.Status is < 400 or > 599) throw new FuzzFindingException($"request error with status {error.Status}");
                    return log.Append("error").ToString();
                }
                var r = request!;
                if (r.Body.Length > SmallMaxBody) throw new FuzzFindingException($"body of {r.Body.Length} bytes passed the limit");
                log.Append(r.Method).Append(' ').Append(r.Target).Append(' ').Append(r.Version)
                    .Append(" path=").Append(r.Path).Append(" query=").Append(r.Query)
                    .Append(" keep-alive=").Append(r.KeepAlive).Append(" headers=").Append(r.Headers.Count)
                    .Append(" host=").Append(r.Headers.Get("Host"))
                    .Append(" body=").Append(Convert.ToHexString(r.Body)).Append('\n');
            }
        }
        return log.ToString();
    }

    private static string DecodeResponses(byte[] input, int piece)
    {
        var decoder = new HttpResponseDecoder(maxBodyBytes: SmallMaxBody, maxHeaderBytes: 2048);
        var log = new StringBuilder();
        for (var offset = 0; offset < input.Length; offset += piece)
        {
            decoder.Feed(input.AsSpan(offset, Math.Min(piece, input.Length - offset)));
            while (true)
            {
                var status = decoder.Next(out var response, out _);
                if (status == HttpDecodeStatus.NeedMore) break;
                if (status == HttpDecodeStatus.Error) return log.Append("error").ToString();
                Describe(log, response!);
            }
        }
        // The connection closes after the last byte.
        if (decoder.Complete(out var last, out _) == HttpDecodeStatus.Response) Describe(log, last!);
        else log.Append("closed");
        return log.ToString();
    }

    private static void Describe(StringBuilder log, HttpResponse r)
    {
        if (r.Body.Length > SmallMaxBody) throw new FuzzFindingException($"body of {r.Body.Length} bytes passed the limit");
        log.Append(r.Status).Append(' ').Append(r.Reason).Append(' ').Append(r.Version)
            .Append(" keep-alive=").Append(r.KeepAlive).Append(" headers=").Append(r.Headers.Count)
            .Append(" body=").Append(Convert.ToHexString(r.Body)).Append('\n');
    }

    // ---- BitTorrent ----------------------------------------------------------------------

    private static void BencodeTarget(byte[] input)
    {
        try
        {
            var value = BencodeDecoder.Decode(input);
            // The decoder accepts only canonical bencode, so encoding what it read gives the input back.
            if (!BencodeEncoder.Encode(value).AsSpan().SequenceEqual(input))
                throw new FuzzFindingException("decoded bencode does not encode back to the input");
        }
        catch (BencodeException)
        {
        }
        try
        {
            var value = BencodeDecoder.DecodePrefix(input, out var consumed);
            if (consumed <= 0 || consumed > input.Length || !BencodeEncoder.Encode(value).AsSpan().SequenceEqual(input.AsSpan(0, consumed)))
                throw new FuzzFindingException("a decoded prefix does not encode back to the bytes it consumed");
        }
        catch (BencodeException)
        {
        }
    }

    private static void MetainfoTarget(byte[] input)
    {
        TorrentMetainfo torrent;
        try
        {
            torrent = TorrentMetainfo.Parse(input);
        }
        catch (MetainfoException)
        {
            return;
        }
        // What the peer reads of an accepted torrent must be consistent.
        long sum = 0;
        for (var i = 0; i < torrent.PieceCount; i++)
        {
            var size = torrent.PieceSize(i);
            if (size <= 0 || size > torrent.PieceLength) throw new FuzzFindingException($"piece {i} has size {size}");
            sum += size;
            _ = torrent.PieceHash(i);
        }
        if (sum != torrent.TotalLength) throw new FuzzFindingException($"pieces cover {sum} bytes, the files {torrent.TotalLength}");
        foreach (var file in torrent.Files)
            if (file.Length < 0 || file.Offset < 0) throw new FuzzFindingException("negative file length or offset");
        _ = torrent.TrackerTiers;
        _ = torrent.InfoHashHex;
    }

    private static TrackerRequestLimits TrackerLimits() => new(MaxQueryLength: 2048, MaxParameters: 32, MaxScrapeHashes: 8);

    /// <summary>The input is the query string of an announce or scrape (any byte as a Latin-1 char).</summary>
    private static void TrackerQueryTarget(byte[] input)
    {
        var query = Encoding.Latin1.GetString(input);
        var limits = TrackerLimits();
        var announce = TrackerRequestParser.ParseAnnounce(query, IPAddress.Loopback, limits);
        if (announce.IsFailure == (announce.Value is not null)) throw new FuzzFindingException("announce is neither a request nor a failure");
        if (announce.Value is { } a)
        {
            if (a.Port is < 1 or > 65535) throw new FuzzFindingException($"port {a.Port} accepted");
            if (a.NumWant < 0 || a.NumWant > limits.MaxNumWant) throw new FuzzFindingException($"numwant {a.NumWant} accepted");
        }
        var scrape = TrackerRequestParser.ParseScrape(query, limits);
        if (scrape.Value is { } s && s.InfoHashes.Count > limits.MaxScrapeHashes)
            throw new FuzzFindingException($"{s.InfoHashes.Count} scrape hashes accepted");
    }

    /// <summary>
    /// The input is one UDP datagram: read as a request by the tracker (from an IPv4 and an IPv6
    /// source), and as an answer by our peer's UDP announcer (which throws only AnnounceException).
    /// </summary>
    private static void UdpTrackerTarget(byte[] input)
    {
        var limits = TrackerLimits();
        foreach (var source in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            var request = UdpTrackerPackets.Parse(input, source, limits);
            var dropSize = input.Length < UdpTrackerPackets.HeaderLength || input.Length > UdpTrackerPackets.MaxRequestLength;
            if (dropSize && request.Kind != UdpRequestKind.Drop) throw new FuzzFindingException($"a {input.Length}-byte datagram read as {request.Kind}");
            if (request.Kind == UdpRequestKind.Drop) continue;
            // No amplification: what an unproven source may get back is never bigger than what it sent.
            var error = UdpTrackerPackets.ErrorAnswer(request.TransactionId, "unknown or expired connection id", maxLength: input.Length);
            if (error is not null && error.Length > input.Length) throw new FuzzFindingException($"an error of {error.Length} bytes for {input.Length}");
            switch (request.Kind)
            {
                case UdpRequestKind.Announce:
                    var a = request.Announce!;
                    if (a.Port is < 1 or > 65535) throw new FuzzFindingException($"port {a.Port} accepted");
                    var ipv6 = source.Equals(IPAddress.IPv6Loopback);
                    if (a.NumWant < 0 || a.NumWant > Math.Min(limits.MaxNumWant, UdpTrackerPackets.MaxPeers(ipv6)))
                        throw new FuzzFindingException($"numwant {a.NumWant} accepted");
                    if (a.Uploaded < 0 || a.Downloaded < 0 || a.Left < 0) throw new FuzzFindingException("a negative count accepted");
                    break;
                case UdpRequestKind.Scrape:
                    if (request.ScrapeHashes!.Count > UdpTrackerPackets.MaxScrapeHashes
                        || request.ScrapeHashes.Count * 20 + UdpTrackerPackets.HeaderLength != input.Length)
                        throw new FuzzFindingException($"{request.ScrapeHashes.Count} scrape hashes from {input.Length} bytes");
                    break;
                case UdpRequestKind.Invalid:
                    if (string.IsNullOrEmpty(request.Problem)) throw new FuzzFindingException("invalid without a reason");
                    break;
            }
        }
        foreach (var ipv6 in new[] { false, true })
        {
            try
            {
                var answer = UdpTrackerAnnounce.ParseAnnounceAnswer(input, ipv6);
                if (answer.Peers.Count > input.Length / (ipv6 ? 18 : 6)) throw new FuzzFindingException($"{answer.Peers.Count} peers from {input.Length} bytes");
            }
            catch (AnnounceException) { }
        }
        try { UdpTrackerAnnounce.ParseConnectAnswer(input); }
        catch (AnnounceException) { }
    }

    // 37 pieces: a 5-byte bitfield with 3 spare bits.
    private const int WirePieceCount = 37;

    /// <summary>The input is what a remote peer sends: read with and without a handshake first.</summary>
    private static void PeerWireTarget(byte[] input)
    {
        SameWholeAndBytewise("peer-wire (handshake)", input, (bytes, piece) => DecodeWire(bytes, piece, expectHandshake: true));
        SameWholeAndBytewise("peer-wire (messages)", input, (bytes, piece) => DecodeWire(bytes, piece, expectHandshake: false));
        // Before a magnet link's metadata: no piece count, bitfields skipped.
        SameWholeAndBytewise("peer-wire (no metadata)", input, (bytes, piece) => DecodeWire(bytes, piece, expectHandshake: false, WireLimits.MetadataOnly()));
    }

    private static string DecodeWire(byte[] input, int piece, bool expectHandshake, WireLimits? metadataOnly = null)
    {
        var limits = metadataOnly ?? new WireLimits(WirePieceCount);
        var decoder = new WireDecoder(limits, expectHandshake);
        var messages = new List<WireMessage>();
        var log = new StringBuilder();
        try
        {
            for (var offset = 0; offset < input.Length; offset += piece)
            {
                decoder.Decode(input.AsSpan(offset, Math.Min(piece, input.Length - offset)), messages);
                if (decoder.Buffered > 4 + limits.MaxMessageLength)
                    throw new FuzzFindingException($"decoder holds {decoder.Buffered} bytes");
            }
        }
        catch (PeerProtocolException)
        {
            log.Append("error ");
        }
        if (decoder.Handshake is { } h) log.Append("handshake ").Append(Convert.ToHexString(h.InfoHash)).Append('\n');
        foreach (var m in messages)
            log.Append(m switch
            {
                WireMessage.Piece p => $"piece {p.Index} {p.Begin} {Convert.ToHexString(p.Block.Span)}",
                WireMessage.Extended e => $"extended {e.ExtendedId} {Convert.ToHexString(e.Payload)}",
                _ => m.ToString(),
            }).Append('\n');
        return log.ToString();
    }

    // ---- Peer extensions (BEP 10, 9, 11) --------------------------------------------------

    /// <summary>The input is an extended handshake's payload: parsed within its bounds, and what we read encodes and reads back the same.</summary>
    private static void ExtendedHandshakeTarget(byte[] input)
    {
        ExtensionHandshake parsed;
        try
        {
            parsed = ExtensionHandshake.Parse(input);
        }
        catch (PeerProtocolException)
        {
            return;
        }
        if (parsed.Messages.Count > ExtensionHandshake.MaxExtensions || parsed.Client?.Length > ExtensionHandshake.MaxClientLength)
            throw new FuzzFindingException($"{parsed.Messages.Count} extensions or a client of {parsed.Client?.Length} characters accepted");
        if (parsed.Messages.Values.Any(id => id == 0)) throw new FuzzFindingException("a disabled (0) extension id accepted");
        var again = ExtensionHandshake.Parse(parsed.Encode());
        if (!again.Messages.OrderBy(m => m.Key, StringComparer.Ordinal).SequenceEqual(parsed.Messages.OrderBy(m => m.Key, StringComparer.Ordinal))
            || again with { Messages = parsed.Messages } != parsed)
            throw new FuzzFindingException("extended handshake changed on a round trip");
    }

    /// <summary>The input is a ut_metadata payload: parsed, round-tripped, and its data given to an assembler sized by it (bounded).</summary>
    private static void UtMetadataTarget(byte[] input)
    {
        MetadataMessage? parsed;
        try
        {
            parsed = MetadataMessage.Parse(input);
        }
        catch (PeerProtocolException)
        {
            return;
        }
        if (parsed is null) return;
        var again = MetadataMessage.Parse(parsed.Encode());
        if (again?.GetType() != parsed.GetType() || again.Piece != parsed.Piece
            || again is MetadataMessage.Data d && (d.TotalSize != ((MetadataMessage.Data)parsed).TotalSize || !d.Bytes.Span.SequenceEqual(((MetadataMessage.Data)parsed).Bytes.Span)))
            throw new FuzzFindingException("ut_metadata message changed on a round trip");
        if (parsed is MetadataMessage.Data data)
        {
            if (data.Bytes.Length > MetadataMessage.PieceLength) throw new FuzzFindingException($"a metadata piece of {data.Bytes.Length} bytes accepted");
            if (data.TotalSize > 64 * 1024) return; // the fetcher refuses sizes above its limit before making an assembler
            var assembler = new MetadataAssembler(new byte[20], (int)data.TotalSize);
            try
            {
                assembler.Add(data);
            }
            catch (PeerProtocolException)
            {
                return;
            }
            if (assembler.IsComplete && assembler.Verified() is not null) throw new FuzzFindingException("metadata of a zero info-hash verified");
        }
    }

    /// <summary>The input is a ut_pex payload: parsed within its bounds, and what we read encodes and reads back the same.</summary>
    private static void UtPexTarget(byte[] input)
    {
        PexMessage parsed;
        try
        {
            parsed = PexMessage.Parse(input);
        }
        catch (PeerProtocolException)
        {
            return;
        }
        if (parsed.Added.Count > 2 * PexMessage.MaxPeersRead || parsed.Dropped.Count > 2 * PexMessage.MaxPeersRead)
            throw new FuzzFindingException($"{parsed.Added.Count} added, {parsed.Dropped.Count} dropped peers read");
        if (parsed.Added.Any(p => p.EndPoint.Port == 0)) throw new FuzzFindingException("a peer with port 0 read");
        var again = PexMessage.Parse(new PexMessage(parsed.Added, parsed.Dropped).Encode());
        static string Key(PexMessage m) => string.Join(',', m.Added.Select(p => $"{p.EndPoint}/{p.Flags}").Order(StringComparer.Ordinal))
            + "|" + string.Join(',', m.Dropped.Select(p => p.ToString()).Order(StringComparer.Ordinal));
        if (Key(again) != Key(parsed)) throw new FuzzFindingException("ut_pex message changed on a round trip");
    }

    /// <summary>The input is one UDP datagram to a DHT node.</summary>
    private static void KrpcTarget(byte[] input)
    {
        KrpcMessage message;
        try
        {
            message = KrpcCodec.Decode(input);
        }
        catch (KrpcException ex)
        {
            if (ex.IsQuery && ex.TransactionId is null) throw new FuzzFindingException("a refused query without a transaction id to answer");
            if (ex.TransactionId is { Length: > KrpcCodec.MaxTransactionIdBytes }) throw new FuzzFindingException("a transaction id past the limit");
            return;
        }
        if (input.Length > KrpcCodec.MaxPacketBytes) throw new FuzzFindingException($"a datagram of {input.Length} bytes accepted");
        if (message is KrpcResponse r && (r.Nodes.Count > KrpcCodec.MaxPacketBytes / CompactEncoding.NodeSize || r.Peers.Count > KrpcCodec.MaxPacketBytes / CompactEncoding.PeerSize))
            throw new FuzzFindingException($"{r.Nodes.Count} nodes and {r.Peers.Count} peers from one datagram");
        if (message is AnnouncePeerQuery a && !a.ImpliedPort && a.Port is < 1 or > 65535) throw new FuzzFindingException($"announce port {a.Port}");
        // What we decoded encodes to a message that decodes to the same thing (our encoding is canonical).
        var encoded = KrpcCodec.Encode(message);
        var again = KrpcCodec.Decode(encoded);
        if (!KrpcCodec.Encode(again).AsSpan().SequenceEqual(encoded)) throw new FuzzFindingException($"{message.GetType().Name} does not round-trip");
    }

    // ---- Calls ---------------------------------------------------------------------------

    /// <summary>The input is a stream of call frames; also one frame body on its own.</summary>
    private static void CallFrameTarget(byte[] input)
    {
        SameWholeAndBytewise("call-frame", input, DecodeFrames);
        try
        {
            var message = FrameCodec.DecodeBody(input);
            // Every field has one encoding, so a decoded body encodes back to itself.
            var frame = FrameCodec.Encode(message, maxFrame: int.MaxValue);
            if (!frame.AsSpan(FrameCodec.HeaderSize).SequenceEqual(input))
                throw new FuzzFindingException($"{message.GetType().Name} does not encode back to its body");
        }
        catch (FrameFormatException)
        {
        }
    }

    private static string DecodeFrames(byte[] input, int piece)
    {
        var decoder = new FrameDecoder(maxFrame: 4096);
        var log = new StringBuilder();
        for (var offset = 0; offset < input.Length; offset += piece)
        {
            decoder.Feed(input.AsSpan(offset, Math.Min(piece, input.Length - offset)));
            while (true)
            {
                var status = decoder.Next(out var message, out var error);
                if (status == CallDecodeStatus.NeedMore) break;
                if (status == CallDecodeStatus.Error)
                {
                    if (string.IsNullOrEmpty(error)) throw new FuzzFindingException("error without a reason");
                    return log.Append("error").ToString();
                }
                log.Append(message switch
                {
                    Media m => $"media {m.Seq} {m.TimestampMicros} {Convert.ToHexString(m.Payload)}",
                    Challenge c => $"challenge {Convert.ToHexString(c.Nonce)}",
                    Register r => $"register {r.Id} {Convert.ToHexString(r.Proof)} {r.ListenPort}",
                    Probe p => $"probe {Convert.ToHexString(p.Nonce)}",
                    ProbeReply p => $"probe-reply {Convert.ToHexString(p.Nonce)}",
                    _ => message!.ToString(),
                }).Append('\n');
            }
            if (decoder.Buffered > 4 + decoder.MaxFrame + piece) throw new FuzzFindingException($"decoder holds {decoder.Buffered} bytes");
        }
        return log.ToString();
    }

    private static void WavTarget(byte[] input)
    {
        WavAudio audio;
        try
        {
            audio = WavAudio.Parse(input);
        }
        catch (InvalidDataException)
        {
            return;
        }
        if (audio.Pcm.Length == 0 || audio.Pcm.Length > input.Length) throw new FuzzFindingException($"{audio.Pcm.Length} bytes of samples");
        var frames = audio.Frames(TimeSpan.FromMilliseconds(20));
        var frameBytes = audio.SampleRate / 50 * audio.Channels * 2;
        if (frames.Count != (audio.Pcm.Length + frameBytes - 1) / frameBytes) throw new FuzzFindingException($"{frames.Count} frames");
    }

    /// <summary>The fixed key the call-udp target and its seeds use.</summary>
    public static byte[] UdpKey() => Enumerable.Range(1, UdpMediaCodec.KeySize).Select(i => (byte)i).ToArray();

    /// <summary>
    /// A datagram from anyone: decoded as is (it must be refused unless its tag is right), then
    /// again with its tag made right, so the fuzzer reaches the field parsing behind the MAC. What
    /// decodes must encode back to the same bytes; its number goes through a replay window (each
    /// accepted once), its media through a jitter buffer (bounded).
    /// </summary>
    private static void CallUdpTarget(byte[] input)
    {
        var key = UdpKey();
        var codec = new UdpMediaCodec(key);
        var raw = codec.Decode(input, out var asIs);
        if (raw == UdpDecodeStatus.Ok) CheckUdp(codec, input, asIs!);
        if (input.Length < UdpMediaCodec.HeaderSize + UdpMediaCodec.TagSize || input.Length > UdpMediaCodec.MaxDatagram) return;
        var signed = (byte[])input.Clone();
        using (var hmac = System.Security.Cryptography.IncrementalHash.CreateHMAC(System.Security.Cryptography.HashAlgorithmName.SHA256, key))
        {
            hmac.AppendData("actors-udp-v1"u8);
            hmac.AppendData(signed.AsSpan(0, signed.Length - UdpMediaCodec.TagSize));
            hmac.GetHashAndReset().AsSpan(0, UdpMediaCodec.TagSize).CopyTo(signed.AsSpan(signed.Length - UdpMediaCodec.TagSize));
        }
        var status = codec.Decode(signed, out var decoded);
        if (status == UdpDecodeStatus.BadTag) throw new FuzzFindingException("a correctly tagged datagram was refused as forged");
        if (status == UdpDecodeStatus.Ok) CheckUdp(codec, signed, decoded!);
    }

    private static void CheckUdp(UdpMediaCodec codec, byte[] datagram, UdpDatagram decoded)
    {
        if (!codec.Encode(decoded).AsSpan().SequenceEqual(datagram)) throw new FuzzFindingException($"{decoded.Kind} does not encode back to its datagram");
        var window = new ReplayWindow();
        if (!window.TryAccept(decoded.Number) || window.TryAccept(decoded.Number)) throw new FuzzFindingException("replay window accepted a number twice or refused a first one");
        var buffer = new JitterBuffer(depth: 2, capacity: 8);
        for (var i = 0u; i < 20; i++)
        {
            buffer.Push(decoded.Seq + (i * 7 % 11), decoded.Payload);
            if (i % 2 == 0) buffer.Pop();
            if (buffer.Buffered > 8) throw new FuzzFindingException($"jitter buffer holds {buffer.Buffered} frames");
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    /// <summary>
    /// Decodes the input fed at once and fed one byte at a time: an incremental decoder must see the
    /// same messages and the same end either way (TCP may split a stream anywhere).
    /// </summary>
    private static void SameWholeAndBytewise(string what, byte[] input, Func<byte[], int, string> decode)
    {
        var whole = decode(input, Math.Max(1, input.Length));
        var bytewise = decode(input, 1);
        if (whole != bytewise)
            throw new FuzzFindingException($"{what}: fed at once it decodes to\n{Shorten(whole)}\nbut fed byte by byte to\n{Shorten(bytewise)}");
    }

    private static string Shorten(string text) => text.Length <= 2000 ? text : text[..2000] + "…";
}
