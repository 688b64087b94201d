using System.Buffers.Binary;
using System.Net;
using Akka.Actor;
using Akka.Serialization;
using SerializationException = System.Runtime.Serialization.SerializationException;

namespace Actors.Torrent.Tracker;

/// <summary>
/// One peer in one swarm, as replicated across tracker nodes (the value of a swarm shard's
/// <c>LWWDictionary</c>, keyed by info-hash hex + peer-id hex). <see cref="LastSeen"/> is Unix
/// milliseconds of its last announce: readers ignore entries older than the peer expiry.
/// </summary>
public sealed record PeerEntry(string Ip, int Port, bool IsSeeder, long LastSeen);

/// <summary>
/// The stable wire shape of <see cref="PeerEntry"/> between tracker nodes: version byte, address
/// length and bytes (4 or 16), port (u16), seeder flag, last-seen (i64), all big-endian.
/// </summary>
public sealed class PeerEntrySerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4711;
    private const string PeerEntryManifest = "PE1";

    public override int Identifier => Id;

    public override string Manifest(object o) => o is PeerEntry ? PeerEntryManifest
        : throw new ArgumentException($"cannot serialize {o.GetType()}", nameof(o));

    public override byte[] ToBinary(object obj)
    {
        if (obj is not PeerEntry entry) throw new ArgumentException($"cannot serialize {obj.GetType()}", nameof(obj));
        var ip = IPAddress.Parse(entry.Ip).GetAddressBytes();
        var bytes = new byte[1 + 1 + ip.Length + 2 + 1 + 8];
        bytes[0] = 1;
        bytes[1] = (byte)ip.Length;
        ip.CopyTo(bytes, 2);
        var at = 2 + ip.Length;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at), (ushort)entry.Port);
        bytes[at + 2] = entry.IsSeeder ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at + 3), entry.LastSeen);
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest != PeerEntryManifest || bytes.Length < 2 || bytes[0] != 1)
            throw new SerializationException($"unknown PeerEntry format (manifest {manifest})");
        var ipLength = bytes[1];
        if (ipLength is not (4 or 16) || bytes.Length != 2 + ipLength + 11)
            throw new SerializationException("truncated PeerEntry");
        var ip = new IPAddress(bytes.AsSpan(2, ipLength));
        var at = 2 + ipLength;
        return new PeerEntry(ip.ToString(), BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at)), bytes[at + 2] == 1,
            BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(at + 3)));
    }

    /// <summary>The HOCON that binds <see cref="PeerEntry"/> to this serializer (also in config/cluster.conf).</summary>
    public const string Hocon = """
        akka.actor {
          serializers.actors-peer-entry = "Actors.Torrent.Tracker.PeerEntrySerializer, Actors.Torrent"
          serialization-bindings { "Actors.Torrent.Tracker.PeerEntry, Actors.Torrent" = actors-peer-entry }
        }
        """;
}
