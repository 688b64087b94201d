using System.Buffers.Binary;

namespace Actors.Torrent.Peer.Wire;

/// <summary>Encodes peer wire messages to bytes (length prefix included).</summary>
public static class WireEncoder
{
    public static byte[] Encode(WireMessage message) => message switch
    {
        WireMessage.KeepAlive => new byte[4],
        WireMessage.Choke => Simple(WireMessageId.Choke),
        WireMessage.Unchoke => Simple(WireMessageId.Unchoke),
        WireMessage.Interested => Simple(WireMessageId.Interested),
        WireMessage.NotInterested => Simple(WireMessageId.NotInterested),
        WireMessage.Have have => Ints(WireMessageId.Have, have.Index),
        WireMessage.Bitfield bitfield => Bitfield(bitfield.Bits),
        WireMessage.Request r => Ints(WireMessageId.Request, r.Index, r.Begin, r.Length),
        WireMessage.Cancel c => Ints(WireMessageId.Cancel, c.Index, c.Begin, c.Length),
        WireMessage.Piece p => Piece(p.Index, p.Begin, p.Block.Span),
        WireMessage.Port p => Port(p.UdpPort),
        WireMessage.Suggest s => Ints(WireMessageId.Suggest, s.Index),
        WireMessage.HaveAll => Simple(WireMessageId.HaveAll),
        WireMessage.HaveNone => Simple(WireMessageId.HaveNone),
        WireMessage.Reject r => Ints(WireMessageId.Reject, r.Index, r.Begin, r.Length),
        WireMessage.AllowedFast a => Ints(WireMessageId.AllowedFast, a.Index),
        WireMessage.Extended e => Extended(e.ExtendedId, e.Payload),
        _ => throw new ArgumentException($"Cannot encode {message.GetType().Name}", nameof(message)),
    };

    public static byte[] Piece(int index, int begin, ReadOnlySpan<byte> block)
    {
        var bytes = new byte[13 + block.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 9 + block.Length);
        bytes[4] = (byte)WireMessageId.Piece;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(5), index);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(9), begin);
        block.CopyTo(bytes.AsSpan(13));
        return bytes;
    }

    /// <summary>The 13 bytes before a block's data in a piece message: sent ahead of the data without copying it.</summary>
    public static byte[] PieceHeader(int index, int begin, int blockLength)
    {
        var bytes = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 9 + blockLength);
        bytes[4] = (byte)WireMessageId.Piece;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(5), index);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(9), begin);
        return bytes;
    }

    /// <summary>An extended message (BEP 10): id 20, the extended id, then the payload.</summary>
    public static byte[] Extended(byte extendedId, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[6 + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 2 + payload.Length);
        bytes[4] = (byte)WireMessageId.Extended;
        bytes[5] = extendedId;
        payload.CopyTo(bytes.AsSpan(6));
        return bytes;
    }

    /// <summary>BEP 5: length 3, id 9, the port in two bytes.</summary>
    private static byte[] Port(int port)
    {
        if (port is < 0 or > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(port), port, "not a UDP port");
        var bytes = new byte[7];
        bytes[3] = 3;
        bytes[4] = (byte)WireMessageId.Port;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(5), (ushort)port);
        return bytes;
    }

    private static byte[] Simple(WireMessageId id)
    {
        var bytes = new byte[5];
        bytes[3] = 1;
        bytes[4] = (byte)id;
        return bytes;
    }

    private static byte[] Ints(WireMessageId id, params ReadOnlySpan<int> values)
    {
        var bytes = new byte[5 + 4 * values.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 1 + 4 * values.Length);
        bytes[4] = (byte)id;
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(5 + 4 * i), values[i]);
        return bytes;
    }

    private static byte[] Bitfield(byte[] bits)
    {
        var bytes = new byte[5 + bits.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 1 + bits.Length);
        bytes[4] = (byte)WireMessageId.Bitfield;
        bits.CopyTo(bytes, 5);
        return bytes;
    }
}
