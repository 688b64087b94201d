using Actors.Torrent.Bencode;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Peer.Extensions;

/// <summary>
/// A BEP 9 <c>ut_metadata</c> message: a bencoded dictionary (<c>msg_type</c>, <c>piece</c>,
/// <c>total_size</c> for data) followed, for data, by the piece's bytes. The info dictionary
/// travels in pieces of <see cref="PieceLength"/> bytes, the last one shorter. Pure codec.
/// </summary>
public abstract record MetadataMessage(int Piece)
{
    public const int PieceLength = 16 * 1024;

    public sealed record Request(int Piece) : MetadataMessage(Piece);
    public sealed record Data(int Piece, long TotalSize, ReadOnlyMemory<byte> Bytes) : MetadataMessage(Piece);
    public sealed record Reject(int Piece) : MetadataMessage(Piece);

    private static readonly BencodeLimits Limits = new() { MaxInputBytes = WireLimits.MaxExtendedLength, MaxDepth = 2, MaxElements = 32 };

    /// <summary>How many pieces an info dictionary of <paramref name="totalSize"/> bytes has.</summary>
    public static int PieceCount(long totalSize) => (int)((totalSize + PieceLength - 1) / PieceLength);

    /// <summary>The payload (after our extended id).</summary>
    public byte[] Encode()
    {
        var dict = new BDictionaryBuilder();
        switch (this)
        {
            case Request: dict.Add("msg_type", 0).Add("piece", Piece); break;
            case Data data: dict.Add("msg_type", 1).Add("piece", Piece).Add("total_size", data.TotalSize); break;
            case Reject: dict.Add("msg_type", 2).Add("piece", Piece); break;
        }
        var header = BencodeEncoder.Encode(dict.Build());
        if (this is not Data { Bytes: var bytes }) return header;
        var payload = new byte[header.Length + bytes.Length];
        header.CopyTo(payload, 0);
        bytes.Span.CopyTo(payload.AsSpan(header.Length));
        return payload;
    }

    /// <returns>The message, or null for a message type this BEP does not define (ignored, as BEP 9 asks).</returns>
    /// <exception cref="PeerProtocolException">Malformed: not a dictionary, a missing or negative piece, data larger than a piece.</exception>
    public static MetadataMessage? Parse(ReadOnlySpan<byte> payload)
    {
        BValue value;
        int used;
        try
        {
            value = BencodeDecoder.DecodePrefix(payload, out used, Limits);
        }
        catch (BencodeException ex)
        {
            throw new PeerProtocolException($"ut_metadata message is not bencode: {ex.Message}");
        }
        if (value is not BDictionary dict) throw new PeerProtocolException("ut_metadata message is not a dictionary");
        if (dict.GetInteger("msg_type") is not { } type) throw new PeerProtocolException("ut_metadata message has no msg_type");
        if (dict.GetInteger("piece") is not { } piece || piece < 0 || piece > int.MaxValue)
            throw new PeerProtocolException("ut_metadata message has no valid piece");
        var rest = payload[used..];
        switch (type)
        {
            case 0: return new Request((int)piece);
            case 2: return new Reject((int)piece);
            case 1:
                if (dict.GetInteger("total_size") is not { } total || total <= 0)
                    throw new PeerProtocolException("ut_metadata data has no valid total_size");
                if (rest.Length > PieceLength)
                    throw new PeerProtocolException($"ut_metadata piece of {rest.Length} bytes exceeds {PieceLength}");
                return new Data((int)piece, total, rest.ToArray());
            default: return null;
        }
    }
}
