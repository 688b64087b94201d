using System.Text;
using Actors.Torrent.Bencode;

namespace Actors.Torrent.Metainfo;

/// <summary>
/// Builds a .torrent from an info dictionary fetched by magnet link (BEP 9) and the link's
/// trackers: the info bytes are kept exactly as received, so the info-hash is unchanged.
/// </summary>
public static class MetadataTorrent
{
    /// <summary>The .torrent file: <c>announce</c> (first tracker), <c>announce-list</c> (one tier per tracker), <c>info</c> verbatim.</summary>
    public static byte[] Build(ReadOnlySpan<byte> rawInfo, IReadOnlyList<string> trackers)
    {
        using var output = new MemoryStream(rawInfo.Length + 256);
        output.WriteByte((byte)'d');
        if (trackers.Count > 0)
        {
            WriteKey(output, "announce");
            output.Write(BencodeEncoder.Encode(BString.From(trackers[0])));
            WriteKey(output, "announce-list");
            output.Write(BencodeEncoder.Encode(new BList(trackers.Select(t => (BValue)new BList([BString.From(t)])).ToArray())));
        }
        WriteKey(output, "info");
        output.Write(rawInfo);
        output.WriteByte((byte)'e');
        return output.ToArray();
    }

    /// <exception cref="MetainfoException">The info dictionary is not a valid (v1) torrent's.</exception>
    public static TorrentMetainfo Parse(ReadOnlySpan<byte> rawInfo, IReadOnlyList<string> trackers) =>
        TorrentMetainfo.Parse(Build(rawInfo, trackers));

    private static void WriteKey(Stream output, string key) =>
        output.Write(Encoding.ASCII.GetBytes($"{key.Length}:{key}"));
}
