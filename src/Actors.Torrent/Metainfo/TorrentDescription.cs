using System.Globalization;
using System.Text;

namespace Actors.Torrent.Metainfo;

/// <summary>The human-readable summary printed by <c>actors torrent show FILE</c>.</summary>
public static class TorrentDescription
{
    public static string Describe(TorrentMetainfo torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        var text = new StringBuilder();
        Line(text, "Name", torrent.Name);
        Line(text, "Info-hash", torrent.InfoHashHex);
        Line(text, "Total size", $"{FormatSize(torrent.TotalLength)} ({torrent.TotalLength.ToString(CultureInfo.InvariantCulture)} bytes)");
        Line(text, "Piece length", FormatSize(torrent.PieceLength));
        Line(text, "Pieces", torrent.PieceCount.ToString(CultureInfo.InvariantCulture));
        Line(text, "Private", torrent.IsPrivate ? "yes" : "no");
        if (torrent.CreatedBy is not null)
        {
            Line(text, "Created by", torrent.CreatedBy);
        }
        if (torrent.CreationDate is { } created)
        {
            Line(text, "Created on", created.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        }
        if (torrent.Comment is not null)
        {
            Line(text, "Comment", torrent.Comment);
        }

        var tiers = torrent.TrackerTiers;
        text.AppendLine(tiers.Count == 0 ? "Trackers:     none" : "Trackers:");
        for (var i = 0; i < tiers.Count; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  tier {i + 1}: {string.Join(", ", tiers[i])}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"Files ({torrent.Files.Count}):");
        foreach (var file in torrent.Files)
        {
            var path = torrent.IsMultiFile ? $"{torrent.Name}/{file.RelativePath}" : file.RelativePath;
            text.AppendLine(CultureInfo.InvariantCulture, $"  {path} ({FormatSize(file.Length)})");
        }
        return text.ToString();
    }

    /// <summary>Bytes in binary units: <c>512 B</c>, <c>1.5 KiB</c>, <c>16 MiB</c>.</summary>
    public static string FormatSize(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? $"{bytes.ToString(CultureInfo.InvariantCulture)} B"
            : $"{value.ToString(value % 1 == 0 ? "0" : "0.##", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    private static void Line(StringBuilder text, string label, string value) =>
        text.Append(label).Append(':').Append(' ', Math.Max(1, 13 - label.Length)).AppendLine(value);
}
