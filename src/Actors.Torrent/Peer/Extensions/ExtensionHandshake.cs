using System.Net;
using System.Text;
using Actors.Torrent.Bencode;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Peer.Extensions;

/// <summary>
/// The BEP 10 extended handshake (extended message id 0): which extensions the sender speaks and
/// under which ids it wants to receive them (<c>m</c>), plus <c>p</c> (its listening port),
/// <c>v</c> (client name), <c>yourip</c>, <c>reqq</c> (request queue) and BEP 9's
/// <c>metadata_size</c>. Pure codec.
/// </summary>
/// <remarks>
/// Reading is lenient where the BEP and real clients are (unknown keys and extensions ignored,
/// a field of the wrong type treated as absent, <c>m</c> ids of 0 meaning "disabled"), and bounded
/// everywhere: the payload, the number and length of extension names, the client string. Only a
/// payload that is not a bencoded dictionary is a protocol error.
/// </remarks>
public sealed record ExtensionHandshake
{
    /// <summary>Names of the extensions we speak.</summary>
    public const string UtMetadata = "ut_metadata", UtPex = "ut_pex";

    /// <summary>Largest handshake payload we read (libtorrent's limit for the whole message is of this order).</summary>
    public const int MaxPayload = WireLimits.MaxExtendedLength;
    public const int MaxExtensions = 64, MaxNameLength = 64, MaxClientLength = 128;
    /// <summary>Requests we let a peer keep queued (<c>reqq</c>) and the most we believe a peer takes.</summary>
    public const int MaxRequestQueue = 2048;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static IPAddress Compact(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    private static readonly BencodeLimits Limits = new() { MaxInputBytes = MaxPayload, MaxDepth = 4, MaxElements = 512 };

    /// <summary>Extension name → the id the sender wants that extension's messages sent with (1..255).</summary>
    public IReadOnlyDictionary<string, byte> Messages { get; init; } = new Dictionary<string, byte>();
    public int? ListenPort { get; init; }
    public string? Client { get; init; }
    public IPAddress? YourIp { get; init; }
    public int? RequestQueue { get; init; }
    /// <summary>BEP 9: the info dictionary's size in bytes; absent when the sender does not have it.</summary>
    public long? MetadataSize { get; init; }

    /// <summary>The id the sender wants for <paramref name="name"/>, or 0 when it does not speak it.</summary>
    public byte IdOf(string name) => Messages.TryGetValue(name, out var id) ? id : (byte)0;

    /// <summary>The bencoded payload (after the extended id 0).</summary>
    public byte[] Encode()
    {
        var m = new BDictionaryBuilder();
        foreach (var (name, id) in Messages) m.Add(name, id);
        var dict = new BDictionaryBuilder().Add("m", m);
        if (MetadataSize is { } size) dict.Add("metadata_size", size);
        if (ListenPort is { } port) dict.Add("p", port);
        if (RequestQueue is { } reqq) dict.Add("reqq", reqq);
        if (Client is { } client) dict.Add("v", client);
        if (YourIp is { } ip) dict.Add("yourip", Compact(ip).GetAddressBytes());
        return BencodeEncoder.Encode(dict.Build());
    }

    /// <exception cref="PeerProtocolException">Not a bencoded dictionary, or too large.</exception>
    public static ExtensionHandshake Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayload) throw new PeerProtocolException($"extended handshake of {payload.Length} bytes exceeds {MaxPayload}");
        BValue value;
        try
        {
            value = BencodeDecoder.Decode(payload, Limits);
        }
        catch (BencodeException ex)
        {
            throw new PeerProtocolException($"extended handshake is not bencode: {ex.Message}");
        }
        if (value is not BDictionary dict) throw new PeerProtocolException("extended handshake is not a dictionary");

        var messages = new Dictionary<string, byte>(StringComparer.Ordinal);
        foreach (var (key, id) in dict.GetDictionary("m")?.Entries ?? [])
        {
            if (messages.Count >= MaxExtensions) break;
            if (key.Length is 0 or > MaxNameLength || id is not BInteger { Value: > 0 and <= 255 } number) continue;
            // Names are ASCII in practice; one that is not valid UTF-8 names no extension we could speak.
            try
            {
                messages[StrictUtf8.GetString(key.Bytes.Span)] = (byte)number.Value;
            }
            catch (DecoderFallbackException)
            {
            }
        }
        var client = dict.GetText("v");
        return new ExtensionHandshake
        {
            Messages = messages,
            ListenPort = dict.GetInteger("p") is { } p and > 0 and < 65536 ? (int)p : null,
            Client = client is null || client.Length <= MaxClientLength ? client
                : client[..(char.IsHighSurrogate(client[MaxClientLength - 1]) ? MaxClientLength - 1 : MaxClientLength)],
            YourIp = dict.Get<BString>("yourip") is { Length: 4 or 16 } ip ? Compact(new IPAddress(ip.Bytes.Span)) : null,
            RequestQueue = dict.GetInteger("reqq") is { } q and > 0 ? (int)Math.Min(q, MaxRequestQueue) : null,
            MetadataSize = dict.GetInteger("metadata_size") is { } size and > 0 ? size : null,
        };
    }
}
