using System.Security.Cryptography;
using Actors.Torrent.Peer.Wire;

namespace Actors.Torrent.Peer.Extensions;

/// <summary>
/// Collects the pieces of an info dictionary fetched with ut_metadata (BEP 9) and checks that it
/// hashes to the info-hash of the magnet link. Pure; the size is bounded by the caller before one
/// is made (a peer's <c>metadata_size</c> is not trusted beyond <c>max-metadata-size</c>).
/// </summary>
public sealed class MetadataAssembler
{
    private readonly byte[] _infoHash;
    private readonly byte[] _data;
    private readonly bool[] _have;
    private int _count;

    public MetadataAssembler(ReadOnlySpan<byte> infoHash, int totalSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSize);
        _infoHash = infoHash.ToArray();
        _data = new byte[totalSize];
        _have = new bool[MetadataMessage.PieceCount(totalSize)];
    }

    public int TotalSize => _data.Length;
    public int PieceCount => _have.Length;
    public bool IsComplete => _count == _have.Length;

    public IEnumerable<int> Missing => Enumerable.Range(0, _have.Length).Where(i => !_have[i]);

    public int PieceSize(int piece) => piece < _have.Length - 1 ? MetadataMessage.PieceLength : _data.Length - piece * MetadataMessage.PieceLength;

    /// <exception cref="PeerProtocolException">A piece we did not ask for, of the wrong length, or a total size that changed.</exception>
    public void Add(MetadataMessage.Data data)
    {
        if (data.TotalSize != _data.Length)
            throw new PeerProtocolException($"ut_metadata total_size {data.TotalSize} differs from the {_data.Length} announced");
        if (data.Piece >= _have.Length) throw new PeerProtocolException($"ut_metadata piece {data.Piece} out of range");
        if (data.Bytes.Length != PieceSize(data.Piece))
            throw new PeerProtocolException($"ut_metadata piece {data.Piece} has {data.Bytes.Length} bytes, expected {PieceSize(data.Piece)}");
        if (_have[data.Piece]) return;
        data.Bytes.Span.CopyTo(_data.AsSpan(data.Piece * MetadataMessage.PieceLength));
        _have[data.Piece] = true;
        _count++;
    }

    /// <summary>Once complete: the info dictionary when its SHA-1 is the info-hash, else null (the sender lied).</summary>
    public byte[]? Verified() =>
        IsComplete && SHA1.HashData(_data).AsSpan().SequenceEqual(_infoHash) ? _data : null;
}
