using System.Net;
using System.Net.Sockets;

namespace Actors.Torrent.Tracker;

/// <summary>
/// Turns the raw query of <c>GET /announce</c> and <c>GET /scrape</c> into validated requests. Pure:
/// every problem becomes a short failure reason for the client, never an exception.
/// </summary>
public static class TrackerRequestParser
{
    public const int HashLength = 20;

    public static Parsed<AnnounceRequest> ParseAnnounce(string? query, IPAddress remote, TrackerRequestLimits limits)
    {
        var parameters = TrackerQuery.Parse(query, limits.MaxQueryLength, limits.MaxParameters, out var error);
        if (parameters is null) return Parsed<AnnounceRequest>.Fail(error!);

        byte[]? infoHash = null, peerId = null, port = null, uploaded = null, downloaded = null, left = null,
            evt = null, compact = null, noPeerId = null, numWant = null, ip = null, key = null, trackerId = null;
        foreach (var (name, value) in parameters)
        {
            ref var slot = ref Slot(name, ref infoHash, ref peerId, ref port, ref uploaded, ref downloaded, ref left,
                ref evt, ref compact, ref noPeerId, ref numWant, ref ip, ref key, ref trackerId, out var known);
            if (!known) continue; // unknown parameters (supportcrypto, corrupt, ...) are ignored
            if (slot is not null) return Parsed<AnnounceRequest>.Fail($"{name} given more than once");
            slot = value;
        }

        if (infoHash is null) return Parsed<AnnounceRequest>.Fail("missing info_hash");
        if (infoHash.Length != HashLength) return Parsed<AnnounceRequest>.Fail("info_hash must be 20 bytes");
        if (peerId is null) return Parsed<AnnounceRequest>.Fail("missing peer_id");
        if (peerId.Length != HashLength) return Parsed<AnnounceRequest>.Fail("peer_id must be 20 bytes");
        if (port is null) return Parsed<AnnounceRequest>.Fail("missing port");
        if (!TryNumber(port, out var portNumber) || portNumber is < 1 or > 65535) return Parsed<AnnounceRequest>.Fail("invalid port");

        long up = 0, down = 0;
        long? remaining = null;
        if (uploaded is not null && !TryNumber(uploaded, out up)) return Parsed<AnnounceRequest>.Fail("invalid uploaded");
        if (downloaded is not null && !TryNumber(downloaded, out down)) return Parsed<AnnounceRequest>.Fail("invalid downloaded");
        if (left is not null)
        {
            if (!TryNumber(left, out var l)) return Parsed<AnnounceRequest>.Fail("invalid left");
            remaining = l;
        }

        var announceEvent = AnnounceEvent.None;
        if (evt is not null)
        {
            switch (System.Text.Encoding.Latin1.GetString(evt))
            {
                case "": case "empty": announceEvent = AnnounceEvent.None; break;
                case "started": announceEvent = AnnounceEvent.Started; break;
                case "completed": announceEvent = AnnounceEvent.Completed; break;
                case "stopped": announceEvent = AnnounceEvent.Stopped; break;
                case "paused": announceEvent = AnnounceEvent.Paused; break; // BEP 21
                default: return Parsed<AnnounceRequest>.Fail("unknown event");
            }
        }

        // BEP 23: compact is what nearly every client wants, so it is also the default.
        var isCompact = true;
        if (compact is not null)
        {
            if (!TryFlag(compact, out isCompact)) return Parsed<AnnounceRequest>.Fail("invalid compact");
        }
        var isNoPeerId = false;
        if (noPeerId is not null && !TryFlag(noPeerId, out isNoPeerId)) return Parsed<AnnounceRequest>.Fail("invalid no_peer_id");

        var want = limits.DefaultNumWant;
        if (numWant is not null)
        {
            if (!TrySignedNumber(numWant, out var n)) return Parsed<AnnounceRequest>.Fail("invalid numwant");
            want = n < 0 ? limits.DefaultNumWant : (int)Math.Min(n, limits.MaxNumWant);
        }

        // The peer's address is the connection's, unless it names another literal IP (a client
        // behind a proxy on the same host, or announcing its IPv6 address over IPv4). Host names
        // are ignored: resolving them would let anyone make the tracker do DNS lookups.
        var address = Normalise(remote);
        if (ip is not null && IPAddress.TryParse(System.Text.Encoding.Latin1.GetString(ip), out var given)
            && given.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            address = Normalise(given);

        return new Parsed<AnnounceRequest>(new AnnounceRequest(
            Convert.ToHexStringLower(infoHash), Convert.ToHexStringLower(peerId), address, (int)portNumber, up, down, remaining,
            announceEvent, isCompact, isNoPeerId, want,
            key is null ? null : System.Text.Encoding.Latin1.GetString(key),
            trackerId is null ? null : System.Text.Encoding.Latin1.GetString(trackerId)), null);
    }

    public static Parsed<ScrapeRequest> ParseScrape(string? query, TrackerRequestLimits limits)
    {
        var parameters = TrackerQuery.Parse(query, limits.MaxQueryLength, limits.MaxParameters, out var error);
        if (parameters is null) return Parsed<ScrapeRequest>.Fail(error!);
        var hashes = new List<string>();
        foreach (var (name, value) in parameters)
        {
            if (name != "info_hash") continue;
            if (value.Length != HashLength) return Parsed<ScrapeRequest>.Fail("info_hash must be 20 bytes");
            if (hashes.Count == limits.MaxScrapeHashes) return Parsed<ScrapeRequest>.Fail($"at most {limits.MaxScrapeHashes} info_hash per scrape");
            var hex = Convert.ToHexStringLower(value);
            if (!hashes.Contains(hex)) hashes.Add(hex);
        }
        return new Parsed<ScrapeRequest>(new ScrapeRequest(hashes), null);
    }

    /// <summary>IPv4-mapped IPv6 (<c>::ffff:a.b.c.d</c>, how .NET reports IPv4 on dual-stack sockets) becomes IPv4.</summary>
    public static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static ref byte[]? Slot(string name, ref byte[]? infoHash, ref byte[]? peerId, ref byte[]? port, ref byte[]? uploaded,
        ref byte[]? downloaded, ref byte[]? left, ref byte[]? evt, ref byte[]? compact, ref byte[]? noPeerId, ref byte[]? numWant,
        ref byte[]? ip, ref byte[]? key, ref byte[]? trackerId, out bool known)
    {
        known = true;
        switch (name)
        {
            case "info_hash": return ref infoHash;
            case "peer_id": return ref peerId;
            case "port": return ref port;
            case "uploaded": return ref uploaded;
            case "downloaded": return ref downloaded;
            case "left": return ref left;
            case "event": return ref evt;
            case "compact": return ref compact;
            case "no_peer_id": return ref noPeerId;
            case "numwant": return ref numWant;
            case "ip": return ref ip;
            case "key": return ref key;
            case "trackerid": return ref trackerId;
            default: known = false; return ref key;
        }
    }

    /// <summary>A non-negative decimal integer of at most 18 digits (no sign, no spaces).</summary>
    private static bool TryNumber(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 18) return false;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            value = value * 10 + (b - '0');
        }
        return true;
    }

    private static bool TrySignedNumber(ReadOnlySpan<byte> text, out long value)
    {
        if (text.Length > 0 && text[0] == '-')
        {
            var ok = TryNumber(text[1..], out value);
            value = -value;
            return ok;
        }
        return TryNumber(text, out value);
    }

    private static bool TryFlag(ReadOnlySpan<byte> text, out bool value)
    {
        value = text.Length == 1 && text[0] == '1';
        return text.Length == 1 && text[0] is (byte)'0' or (byte)'1';
    }
}
