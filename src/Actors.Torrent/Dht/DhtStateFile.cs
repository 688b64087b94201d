using Actors.Torrent.Bencode;

namespace Actors.Torrent.Dht;

/// <summary>
/// A node's saved state, so a restarted node keeps its id and rejoins through the nodes it knew:
/// a small bencoded file <c>{"id": 20 bytes, "nodes": compact node info}</c>, written atomically.
/// </summary>
public static class DhtStateFile
{
    public const int MaxNodes = 200;

    public static void Save(string path, NodeId id, IEnumerable<NodeContact> nodes)
    {
        var bytes = BencodeEncoder.Encode(new BDictionaryBuilder()
            .Add("id", id.ToBytes())
            .Add("nodes", CompactEncoding.EncodeNodes(nodes.Take(MaxNodes)))
            .Build());
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The saved id and nodes, or null when there is no file.</summary>
    /// <exception cref="InvalidDataException">The file is not a state file.</exception>
    public static (NodeId Id, IReadOnlyList<NodeContact> Nodes)? Load(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var dict = BencodeDecoder.Decode(File.ReadAllBytes(path), new BencodeLimits { MaxInputBytes = 64 * 1024 }) as BDictionary
                       ?? throw new InvalidDataException("not a dictionary");
            var id = dict.Get<BString>("id") is { Length: NodeId.Size } s ? NodeId.FromBytes(s.Bytes.Span) : throw new InvalidDataException("no 20-byte id");
            var nodes = dict.Get<BString>("nodes") is { } n ? CompactEncoding.DecodeNodes(n.Bytes.Span) : [];
            return (id, nodes.Take(MaxNodes).ToList());
        }
        catch (Exception ex) when (ex is BencodeException or KrpcException)
        {
            throw new InvalidDataException($"{path} is not a DHT state file: {ex.Message}", ex);
        }
    }
}
