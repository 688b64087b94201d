using System.Net;

namespace Actors.Torrent.Tracker;

public enum AnnounceEvent { None, Started, Completed, Stopped, Paused }

/// <summary>
/// A validated announce (BEP 3). Info-hash and peer id are kept as lowercase hex so they can be
/// used as keys and compared cheaply; <see cref="Ip"/> is the address other peers should dial.
/// </summary>
public sealed record AnnounceRequest(
    string InfoHash,
    string PeerId,
    IPAddress Ip,
    int Port,
    long Uploaded,
    long Downloaded,
    long? Left,
    AnnounceEvent Event,
    bool Compact,
    bool NoPeerId,
    int NumWant,
    string? Key,
    string? TrackerId)
{
    /// <summary>A peer with nothing left to download is a seeder; a missing <c>left</c> counts as a leecher.</summary>
    public bool IsSeeder => Left == 0;
}

/// <summary>A validated scrape (BEP 48); no info-hashes means "every swarm" (bounded by the tracker).</summary>
public sealed record ScrapeRequest(IReadOnlyList<string> InfoHashes);

/// <summary>Bounds and defaults the parser applies.</summary>
public sealed record TrackerRequestLimits(int DefaultNumWant = 50, int MaxNumWant = 200, int MaxQueryLength = 8192,
    int MaxParameters = 128, int MaxScrapeHashes = 64);

/// <summary>Either a request or the text of a bencoded <c>failure reason</c>.</summary>
public readonly record struct Parsed<T>(T? Value, string? Failure) where T : class
{
    public static Parsed<T> Fail(string reason) => new(null, reason);
    public bool IsFailure => Failure is not null;
}
