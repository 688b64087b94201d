namespace Actors.Torrent.Peer.Wire;

/// <summary>The message ids we speak (after the 4-byte length prefix): BEP 3, BEP 5 (port), BEP 6 (Fast), BEP 10 (extended). Others are skipped.</summary>
public enum WireMessageId : byte
{
    Choke = 0,
    Unchoke = 1,
    Interested = 2,
    NotInterested = 3,
    Have = 4,
    Bitfield = 5,
    Request = 6,
    Piece = 7,
    Cancel = 8,
    /// <summary>BEP 5: the UDP port of the sender's DHT node.</summary>
    Port = 9,
    Suggest = 13,
    HaveAll = 14,
    HaveNone = 15,
    Reject = 16,
    AllowedFast = 17,
    Extended = 20,
}

/// <summary>One decoded peer wire message (BEP 3). Immutable.</summary>
public abstract record WireMessage
{
    public sealed record KeepAlive : WireMessage { public static readonly KeepAlive Instance = new(); }
    public sealed record Choke : WireMessage { public static readonly Choke Instance = new(); }
    public sealed record Unchoke : WireMessage { public static readonly Unchoke Instance = new(); }
    public sealed record Interested : WireMessage { public static readonly Interested Instance = new(); }
    public sealed record NotInterested : WireMessage { public static readonly NotInterested Instance = new(); }
    public sealed record Have(int Index) : WireMessage;
    /// <summary>Exactly ceil(pieces/8) bytes, high bit first, spare bits zero (checked by the decoder).</summary>
    public sealed record Bitfield(byte[] Bits) : WireMessage;
    public sealed record Request(int Index, int Begin, int Length) : WireMessage;
    /// <summary>
    /// A block. Decoded by <see cref="WireDecoder"/>, <paramref name="Block"/> lies in an array
    /// rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>: the last one to use it may give it
    /// back with <see cref="WireDecoder.ReturnBlock"/> (the torrent does, once the block is in its
    /// piece); one never given back is collected like any array.
    /// </summary>
    public sealed record Piece(int Index, int Begin, ReadOnlyMemory<byte> Block) : WireMessage;
    public sealed record Cancel(int Index, int Begin, int Length) : WireMessage;

    /// <summary>BEP 5: the sender runs a DHT node on this UDP port (at its IP address). Exactly 2 bytes on the wire.</summary>
    public sealed record Port(int UdpPort) : WireMessage;

    // BEP 6 (Fast): only valid when both handshakes set the fast bit (the connection checks).
    public sealed record Suggest(int Index) : WireMessage;
    public sealed record HaveAll : WireMessage { public static readonly HaveAll Instance = new(); }
    public sealed record HaveNone : WireMessage { public static readonly HaveNone Instance = new(); }
    public sealed record Reject(int Index, int Begin, int Length) : WireMessage;
    public sealed record AllowedFast(int Index) : WireMessage;

    /// <summary>BEP 10: <paramref name="ExtendedId"/> 0 is the extended handshake, others the ids we advertised; the payload is decoded by <c>Extensions/</c>.</summary>
    public sealed record Extended(byte ExtendedId, byte[] Payload) : WireMessage;
}

/// <summary>The 68-byte handshake: pstrlen, "BitTorrent protocol", 8 reserved bytes, info-hash, peer id.</summary>
public sealed record Handshake(byte[] Reserved, byte[] InfoHash, byte[] PeerId)
{
    public const int Length = 68;

    /// <summary>
    /// Our reserved bytes: the extension protocol (BEP 10: byte 5, 0x10), the Fast extension
    /// (BEP 6: byte 7, 0x04) and, when we run a DHT node, the DHT (BEP 5: byte 7, 0x01).
    /// </summary>
    public static byte[] OurReserved(bool dht = false) => [0, 0, 0, 0, 0, 0x10, 0, (byte)(0x04 | (dht ? 0x01 : 0))];

    /// <summary>The peer speaks BEP 10 (extended messages).</summary>
    public bool SupportsExtensions => Reserved.Length == 8 && (Reserved[5] & 0x10) != 0;

    /// <summary>The peer speaks BEP 6 (Fast extension).</summary>
    public bool SupportsFast => Reserved.Length == 8 && (Reserved[7] & 0x04) != 0;

    /// <summary>The peer runs a DHT node (BEP 5) and takes a <c>port</c> message.</summary>
    public bool SupportsDht => Reserved.Length == 8 && (Reserved[7] & 0x01) != 0;
    public static ReadOnlySpan<byte> Protocol => "BitTorrent protocol"u8;

    public byte[] Encode()
    {
        var bytes = new byte[Length];
        bytes[0] = 19;
        Protocol.CopyTo(bytes.AsSpan(1));
        Reserved.AsSpan(0, 8).CopyTo(bytes.AsSpan(20));
        InfoHash.AsSpan(0, 20).CopyTo(bytes.AsSpan(28));
        PeerId.AsSpan(0, 20).CopyTo(bytes.AsSpan(48));
        return bytes;
    }
}

/// <summary>The remote peer broke the protocol: the connection must be dropped.</summary>
public sealed class PeerProtocolException(string message) : Exception(message);
