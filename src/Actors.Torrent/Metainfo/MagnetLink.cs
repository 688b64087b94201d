using System.Globalization;
using System.Net;
using System.Text;

namespace Actors.Torrent.Metainfo;

/// <summary>
/// A BitTorrent magnet link (BEP 9): <c>magnet:?xt=urn:btih:HASH&amp;dn=NAME&amp;tr=URL&amp;x.pe=HOST:PORT</c>.
/// The info-hash is 40 hex digits or 32 base32 characters; <c>tr</c> and <c>x.pe</c> may repeat.
/// Parse errors are a <see cref="MetainfoException"/> naming what is wrong.
/// </summary>
public sealed record MagnetLink(byte[] InfoHash, string? DisplayName, IReadOnlyList<string> Trackers, IReadOnlyList<IPEndPoint> Peers)
{
    public const int MaxLength = 64 * 1024, MaxTrackers = 100, MaxPeers = 200;

    public string InfoHashHex => Convert.ToHexStringLower(InfoHash);

    public static bool LooksLikeMagnet(string text) => text.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The magnet link of a torrent: hex info-hash, its name, every tracker (tiers in order).</summary>
    public static MagnetLink From(TorrentMetainfo torrent) =>
        new(torrent.InfoHash.ToArray(), torrent.Name, torrent.TrackerTiers.SelectMany(t => t).Distinct().ToArray(), []);

    public override string ToString()
    {
        var text = new StringBuilder("magnet:?xt=urn:btih:").Append(InfoHashHex);
        if (!string.IsNullOrEmpty(DisplayName)) text.Append("&dn=").Append(Uri.EscapeDataString(DisplayName));
        foreach (var tracker in Trackers) text.Append("&tr=").Append(Uri.EscapeDataString(tracker));
        foreach (var peer in Peers) text.Append("&x.pe=").Append(Uri.EscapeDataString(peer.ToString()));
        return text.ToString();
    }

    /// <exception cref="MetainfoException">Not a magnet link, or no usable BitTorrent info-hash.</exception>
    public static MagnetLink Parse(string text)
    {
        if (text.Length > MaxLength) throw new MetainfoException($"magnet link of {text.Length} characters exceeds {MaxLength}");
        if (!text.StartsWith("magnet:?", StringComparison.OrdinalIgnoreCase))
            throw new MetainfoException("not a magnet link (expected 'magnet:?xt=urn:btih:…')");
        byte[]? hash = null;
        string? name = null;
        var trackers = new List<string>();
        var peers = new List<IPEndPoint>();
        var sawV2 = false;
        foreach (var part in text["magnet:?".Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            // Keys may carry a ".N" suffix (xt.1, tr.2) when repeated.
            var key = part[..eq].ToLowerInvariant();
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && key != "x.pe" && int.TryParse(key[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out _)) key = key[..dot];
            string value;
            try
            {
                value = Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            }
            catch (UriFormatException)
            {
                throw new MetainfoException($"magnet link: '{part}' is not percent-encoded correctly");
            }
            switch (key)
            {
                case "xt" when value.StartsWith("urn:btih:", StringComparison.OrdinalIgnoreCase):
                    hash ??= ParseHash(value["urn:btih:".Length..]);
                    break;
                case "xt" when value.StartsWith("urn:btmh:", StringComparison.OrdinalIgnoreCase):
                    sawV2 = true;
                    break;
                case "dn":
                    name ??= value;
                    break;
                case "tr" when trackers.Count < MaxTrackers:
                    if (Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" or "udp")
                    {
                        if (!trackers.Contains(value)) trackers.Add(value);
                    }
                    else throw new MetainfoException($"magnet link: tracker '{value}' is not an http, https or udp URL");
                    break;
                case "x.pe" when peers.Count < MaxPeers:
                    peers.Add(IPEndPoint.TryParse(value, out var peer) && peer.Port > 0
                        ? peer : throw new MetainfoException($"magnet link: peer '{value}' is not IP:PORT"));
                    break;
            }
        }
        if (hash is null)
            throw new MetainfoException(sawV2
                ? "magnet link has only a BitTorrent v2 hash (urn:btmh); only v1 (urn:btih) is supported"
                : "magnet link has no 'xt=urn:btih:' info-hash");
        return new MagnetLink(hash, name, trackers, peers);
    }

    private static byte[] ParseHash(string text)
    {
        if (text.Length == 40)
        {
            try
            {
                return Convert.FromHexString(text);
            }
            catch (FormatException)
            {
                throw new MetainfoException($"magnet link: info-hash '{text}' is not 40 hex digits");
            }
        }
        if (text.Length == 32) return Base32(text);
        throw new MetainfoException($"magnet link: info-hash '{text}' has {text.Length} characters; expected 40 hex digits or 32 base32 characters");
    }

    /// <summary>RFC 4648 base32 (A–Z, 2–7), 32 characters → 20 bytes.</summary>
    private static byte[] Base32(string text)
    {
        var bytes = new byte[20];
        int buffer = 0, bits = 0, at = 0;
        foreach (var c in text.ToUpperInvariant())
        {
            var v = c is >= 'A' and <= 'Z' ? c - 'A' : c is >= '2' and <= '7' ? c - '2' + 26
                : throw new MetainfoException($"magnet link: info-hash '{text}' is not base32 (A-Z, 2-7)");
            buffer = (buffer << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[at++] = (byte)(buffer >> bits);
                buffer &= (1 << bits) - 1;
            }
        }
        return bytes;
    }
}
