using System.Net;
using Actors.Torrent.Metainfo;

namespace Actors.Torrent.Peer.Magnet;

/// <summary>Ask a <see cref="MetadataFetcher"/> for the torrent; answered <see cref="MetadataResolved"/> or <see cref="MetadataFailed"/>.</summary>
public sealed class FetchMetadata { public static readonly FetchMetadata Instance = new(); private FetchMetadata() { } }
/// <summary>The info dictionary arrived and hashes to the link's info-hash: the torrent, its .torrent file, and every peer learned meanwhile.</summary>
public sealed record MetadataResolved(TorrentMetainfo Torrent, byte[] TorrentFile, IReadOnlyList<IPEndPoint> Peers, int BadPeers);
public sealed record MetadataFailed(string Reason);

// Between the fetcher and its connections.
/// <summary>A connection fetched the whole info dictionary and it verified.</summary>
public sealed record MetadataFetched(byte[] RawInfo, IPEndPoint From);
/// <summary>A peer sent metadata that does not hash to the info-hash, or broke ut_metadata: it is not dialled again.</summary>
public sealed record MetadataBad(IPEndPoint From, string Reason);
