using System.Collections;
using System.Numerics;

namespace Actors.Torrent.Peer;

/// <summary>Which pieces a peer has: a bitfield with the wire's layout (high bit of byte 0 is piece 0).</summary>
public sealed class PieceSet : IEnumerable<int>
{
    private readonly byte[] _bits;

    public PieceSet(int pieceCount)
    {
        PieceCount = pieceCount;
        _bits = new byte[(pieceCount + 7) / 8];
    }

    public int PieceCount { get; }
    public int Count { get; private set; }
    public bool IsComplete => Count == PieceCount;
    public bool IsEmpty => Count == 0;

    public bool this[int index] => (_bits[index >> 3] & (0x80 >> (index & 7))) != 0;

    /// <summary>Marks <paramref name="index"/>; returns false when it was already set.</summary>
    public bool Add(int index)
    {
        if (this[index]) return false;
        _bits[index >> 3] |= (byte)(0x80 >> (index & 7));
        Count++;
        return true;
    }

    public bool Remove(int index)
    {
        if (!this[index]) return false;
        _bits[index >> 3] &= (byte)~(0x80 >> (index & 7));
        Count--;
        return true;
    }

    public static PieceSet FromWire(int pieceCount, ReadOnlySpan<byte> bits)
    {
        var set = new PieceSet(pieceCount);
        bits[..set._bits.Length].CopyTo(set._bits);
        var spare = set._bits.Length * 8 - pieceCount;
        if (spare > 0) set._bits[^1] &= (byte)(0xFF << spare);
        foreach (var b in set._bits) set.Count += BitOperations.PopCount(b);
        return set;
    }

    public static PieceSet Full(int pieceCount)
    {
        var set = new PieceSet(pieceCount);
        for (var i = 0; i < pieceCount; i++) set.Add(i);
        return set;
    }

    /// <summary>Adds every piece of <paramref name="other"/> (same piece count).</summary>
    public void UnionWith(PieceSet other)
    {
        if (other.PieceCount != PieceCount) throw new ArgumentException("piece counts differ", nameof(other));
        Count = 0;
        for (var b = 0; b < _bits.Length; b++)
        {
            _bits[b] |= other._bits[b];
            Count += BitOperations.PopCount(_bits[b]);
        }
    }

    public byte[] ToWire() => (byte[])_bits.Clone();

    public PieceSet Clone() => FromWire(PieceCount, _bits);

    public IEnumerator<int> GetEnumerator()
    {
        for (var i = 0; i < PieceCount; i++)
            if (this[i]) yield return i;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
