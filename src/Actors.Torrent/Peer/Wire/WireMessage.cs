namespace Actors.Torrent.Peer.Wire;

/// <summary>The BEP 3 message ids (after the 4-byte length prefix). Others are skipped.</summary>
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
    public sealed record Piece(int Index, int Begin, ReadOnlyMemory<byte> Block) : WireMessage;
    public sealed record Cancel(int Index, int Begin, int Length) : WireMessage;
}

/// <summary>The 68-byte handshake: pstrlen, "BitTorrent protocol", 8 reserved bytes, info-hash, peer id.</summary>
public sealed record Handshake(byte[] Reserved, byte[] InfoHash, byte[] PeerId)
{
    public const int Length = 68;
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
