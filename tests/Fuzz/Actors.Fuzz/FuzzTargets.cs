using System.Net;
using System.Text;
using Actors.Calls.Caller;
using Actors.Calls.Protocol;
using Actors.Torrent.Bencode;
using Actors.Torrent.Metainfo;
using Actors.Torrent.Peer.Wire;
using Actors.Torrent.Tracker;
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
        ["peer-wire"] = PeerWireTarget,
        ["call-frame"] = CallFrameTarget,
        ["wav"] = WavTarget,
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

    // 37 pieces: a 5-byte bitfield with 3 spare bits.
    private const int WirePieceCount = 37;

    /// <summary>The input is what a remote peer sends: read with and without a handshake first.</summary>
    private static void PeerWireTarget(byte[] input)
    {
        SameWholeAndBytewise("peer-wire (handshake)", input, (bytes, piece) => DecodeWire(bytes, piece, expectHandshake: true));
        SameWholeAndBytewise("peer-wire (messages)", input, (bytes, piece) => DecodeWire(bytes, piece, expectHandshake: false));
    }

    private static string DecodeWire(byte[] input, int piece, bool expectHandshake)
    {
        var limits = new WireLimits(WirePieceCount);
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
            log.Append(m is WireMessage.Piece p ? $"piece {p.Index} {p.Begin} {Convert.ToHexString(p.Block.Span)}" : m.ToString()).Append('\n');
        return log.ToString();
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
