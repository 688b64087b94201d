using System.Buffers.Binary;
using System.Net;
using System.Text;
using Akka.Actor;
using Akka.Serialization;
using static Actors.Torrent.Tracker.TrackerWire;
using SerializationException = System.Runtime.Serialization.SerializationException;

namespace Actors.Torrent.Tracker;

/// <summary>
/// The stable wire shape of <see cref="TrackerWire"/> messages between tracker nodes. Each message
/// is a version byte (1) and its fields big-endian; the manifest names the message. Ids are 20
/// raw bytes, addresses 16 (IPv4 mapped), a peer change 63 bytes:
/// info-hash, peer id, address, port (u16), flags (seeder 1, removed 2, completed 4), last-seen (i32).
/// Unknown manifests, versions or truncated input throw <see cref="SerializationException"/>.
/// </summary>
public sealed class TrackerWireSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int Id = 4712;
    private const byte Version = 1;

    /// <summary>The HOCON that binds the tracker's wire messages to this serializer (also in config/cluster.conf).</summary>
    public const string Hocon = """
        akka.actor {
          serializers.actors-tracker = "Actors.Torrent.Tracker.TrackerWireSerializer, Actors.Torrent"
          serialization-bindings { "Actors.Torrent.Tracker.TrackerWire+IMessage, Actors.Torrent" = actors-tracker }
        }
        """;

    public override int Identifier => Id;

    public override string Manifest(object o) => o switch
    {
        Hello => "H",
        Welcome => "W",
        ForwardedAnnounce => "FA",
        ForwardedAnswer => "FR",
        ReplicaBatch => "RB",
        ReplicaAck => "RK",
        PartitionSnapshot => "HS",
        HandoverAck => "HK",
        RemoteScrape => "SQ",
        RemoteScraped => "SR",
        Batch => "B",
        _ => throw new ArgumentException($"cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        var w = new Writer();
        w.Byte(Version);
        switch (obj)
        {
            case Hello or Welcome:
                break;
            case ForwardedAnnounce f:
                w.Long(f.Id);
                WriteRequest(w, f.Request);
                break;
            case ForwardedAnswer a:
                w.Long(a.Id);
                w.Int(a.Complete);
                w.Int(a.Incomplete);
                w.Text(a.Failure);
                var withIds = a.Peers.Any(p => p.PeerId != default);
                w.Byte(withIds ? (byte)1 : (byte)0);
                w.Int(a.Peers.Count);
                foreach (var peer in a.Peers)
                {
                    if (withIds) w.Id(peer.PeerId);
                    w.Address(peer.Address);
                    w.UShort(peer.Port);
                }
                break;
            case ReplicaBatch b:
                w.Long(b.Id);
                w.Int(b.Changes.Count);
                foreach (var change in b.Changes) w.Change(change);
                break;
            case ReplicaAck k:
                w.Long(k.Id);
                break;
            case HandoverAck h:
                w.Long(h.Id);
                break;
            case PartitionSnapshot s:
                w.Long(s.Id);
                w.Int(s.Partition);
                w.Int(s.Peers.Count);
                foreach (var change in s.Peers) w.Change(change);
                w.Int(s.Downloads.Count);
                foreach (var d in s.Downloads)
                {
                    w.Id(d.InfoHash);
                    w.Long(d.Downloaded);
                }
                break;
            case RemoteScrape q:
                w.Long(q.Id);
                w.Byte(q.All ? (byte)1 : (byte)0);
                w.Int(q.InfoHashes.Count);
                foreach (var hash in q.InfoHashes) w.Id(hash);
                break;
            case RemoteScraped r:
                w.Long(r.Id);
                w.Int(r.Swarms.Count);
                foreach (var stats in r.Swarms)
                {
                    w.Id(Id20.FromHex(stats.InfoHash));
                    w.Int(stats.Complete);
                    w.Int(stats.Incomplete);
                    w.Long(stats.Downloaded);
                }
                break;
            case Batch batch:
                // Each message as manifest and length-prefixed bytes.
                w.Int(batch.Messages.Count);
                foreach (var message in batch.Messages)
                {
                    if (message is Batch) throw new ArgumentException("a Batch cannot hold a Batch", nameof(obj));
                    w.Text(Manifest(message));
                    var bytes = ToBinary(message);
                    w.Int(bytes.Length);
                    w.Bytes(bytes);
                }
                break;
            default:
                throw new ArgumentException($"cannot serialize {obj.GetType()}", nameof(obj));
        }
        return w.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            var r = new Reader(bytes);
            if (r.Byte() != Version) throw new SerializationException($"unknown tracker wire version in {manifest}");
            object result = manifest switch
            {
                "H" => Hello.Instance,
                "W" => Welcome.Instance,
                "FA" => new ForwardedAnnounce(r.Long(), ReadRequest(ref r)),
                "FR" => ReadAnswer(ref r),
                "RB" => new ReplicaBatch(r.Long(), r.List(r.Count(PeerChangeSize), static (ref Reader x) => x.Change())),
                "RK" => new ReplicaAck(r.Long()),
                "HK" => new HandoverAck(r.Long()),
                "HS" => new PartitionSnapshot(r.Long(), r.Int(),
                    r.List(r.Count(PeerChangeSize), static (ref Reader x) => x.Change()),
                    r.List(r.Count(28), static (ref Reader x) => new SwarmDownloads(x.Id(), x.Long()))),
                "SQ" => ReadRemoteScrape(ref r),
                "B" => ReadBatch(ref r),
                "SR" => new RemoteScraped(r.Long(), r.List(r.Count(36),
                    static (ref Reader x) => new SwarmStats(x.Id().ToHex(), x.Int(), x.Int(), x.Long()))),
                _ => throw new SerializationException($"unknown tracker wire manifest '{manifest}'"),
            };
            if (!r.AtEnd) throw new SerializationException($"trailing bytes in tracker wire message {manifest}");
            return result;
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new SerializationException($"truncated tracker wire message {manifest}", e);
        }
    }

    private const int PeerChangeSize = 20 + 20 + 16 + 2 + 1 + 4;

    private static void WriteRequest(Writer w, AnnounceRequest request)
    {
        w.Id(Id20.FromHex(request.InfoHash));
        w.Id(Id20.FromHex(request.PeerId));
        var ip = request.Ip.GetAddressBytes();
        w.Byte((byte)ip.Length);
        w.Bytes(ip);
        w.UShort(request.Port);
        w.Long(request.Uploaded);
        w.Long(request.Downloaded);
        w.Byte(request.Left is null ? (byte)0 : (byte)1);
        w.Long(request.Left ?? 0);
        w.Byte((byte)request.Event);
        w.Byte((byte)((request.Compact ? 1 : 0) | (request.NoPeerId ? 2 : 0)));
        w.Int(request.NumWant);
        // key and trackerid are accepted and ignored by the tracker: not sent.
    }

    private static AnnounceRequest ReadRequest(ref Reader r)
    {
        var infoHash = r.Id().ToHex();
        var peerId = r.Id().ToHex();
        var ipLength = r.Byte();
        if (ipLength is not (4 or 16)) throw new SerializationException("bad address length in ForwardedAnnounce");
        var ip = new IPAddress(r.Span(ipLength));
        var port = r.UShort();
        var uploaded = r.Long();
        var downloaded = r.Long();
        var hasLeft = r.Byte() == 1;
        var left = r.Long();
        var @event = r.Byte();
        if (@event > (byte)AnnounceEvent.Paused) throw new SerializationException("bad event in ForwardedAnnounce");
        var flags = r.Byte();
        return new AnnounceRequest(infoHash, peerId, ip, port, uploaded, downloaded, hasLeft ? left : null, (AnnounceEvent)@event,
            (flags & 1) != 0, (flags & 2) != 0, r.Int(), null, null);
    }

    private static ForwardedAnswer ReadAnswer(ref Reader r)
    {
        var id = r.Long();
        var complete = r.Int();
        var incomplete = r.Int();
        var failure = r.Text();
        var withIds = r.Byte() == 1;
        var count = r.Count(withIds ? 38 : 18);
        var peers = new SwarmPeer[count];
        for (var i = 0; i < count; i++)
        {
            var peerId = withIds ? r.Id() : default;
            peers[i] = new SwarmPeer(peerId, r.Address(), r.UShort());
        }
        return new ForwardedAnswer(id, peers, complete, incomplete, failure);
    }

    private Batch ReadBatch(ref Reader r)
    {
        var count = r.Count(9);
        var messages = new IMessage[count];
        for (var i = 0; i < count; i++)
        {
            var manifest = r.Text() ?? throw new SerializationException("missing manifest in Batch");
            if (manifest == "B") throw new SerializationException("nested Batch");
            var length = r.Int();
            messages[i] = (IMessage)FromBinary(r.Span(length).ToArray(), manifest);
        }
        return new Batch(messages);
    }

    private static RemoteScrape ReadRemoteScrape(ref Reader r)
    {
        var id = r.Long();
        var all = r.Byte() == 1;
        return new RemoteScrape(id, r.List(r.Count(20), static (ref Reader x) => x.Id()), all);
    }

    private sealed class Writer
    {
        private byte[] _buffer = new byte[256];
        private int _length;

        private Span<byte> Take(int n)
        {
            if (_length + n > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
            var span = _buffer.AsSpan(_length, n);
            _length += n;
            return span;
        }

        public void Byte(byte value) => Take(1)[0] = value;
        public void UShort(int value) => BinaryPrimitives.WriteUInt16BigEndian(Take(2), (ushort)value);
        public void Int(int value) => BinaryPrimitives.WriteInt32BigEndian(Take(4), value);
        public void Long(long value) => BinaryPrimitives.WriteInt64BigEndian(Take(8), value);
        public void Bytes(ReadOnlySpan<byte> value) => value.CopyTo(Take(value.Length));
        public void Id(Id20 id) => id.Write(Take(20));
        public void Address(PeerAddress address) => address.Write(Take(16));

        /// <summary>Length-prefixed UTF-8; -1 for null.</summary>
        public void Text(string? text)
        {
            if (text is null) { Int(-1); return; }
            var bytes = Encoding.UTF8.GetBytes(text);
            Int(bytes.Length);
            Bytes(bytes);
        }

        public void Change(in PeerChange c)
        {
            Id(c.InfoHash);
            Id(c.PeerId);
            Address(c.Address);
            UShort(c.Port);
            Byte((byte)((c.Seeder ? 1 : 0) | (c.Removed ? 2 : 0) | (c.Completed ? 4 : 0)));
            Int(c.LastSeen);
        }

        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly bool AtEnd => _at == _bytes.Length;

        public ReadOnlySpan<byte> Span(int n)
        {
            if (n < 0 || _at + n > _bytes.Length) throw new ArgumentOutOfRangeException(nameof(n));
            var span = _bytes.Slice(_at, n);
            _at += n;
            return span;
        }

        public byte Byte() => Span(1)[0];
        public int UShort() => BinaryPrimitives.ReadUInt16BigEndian(Span(2));
        public int Int() => BinaryPrimitives.ReadInt32BigEndian(Span(4));
        public long Long() => BinaryPrimitives.ReadInt64BigEndian(Span(8));
        public Id20 Id() => Id20.Read(Span(20));
        public PeerAddress Address() => PeerAddress.Read(Span(16));

        public string? Text()
        {
            var length = Int();
            return length < 0 ? null : Encoding.UTF8.GetString(Span(length));
        }

        /// <summary>A element count, checked against the bytes left so a corrupt count cannot allocate a huge array.</summary>
        public int Count(int minElementSize)
        {
            var count = Int();
            if (count < 0 || (long)count * minElementSize > _bytes.Length - _at)
                throw new SerializationException("bad element count in tracker wire message");
            return count;
        }

        public PeerChange Change()
        {
            var infoHash = Id();
            var peerId = Id();
            var address = Address();
            var port = UShort();
            var flags = Byte();
            return new PeerChange(infoHash, peerId, address, port, (flags & 1) != 0, Int(), (flags & 2) != 0, (flags & 4) != 0);
        }

        public delegate T Element<out T>(ref Reader reader);

        public T[] List<T>(int count, Element<T> read)
        {
            var items = new T[count];
            for (var i = 0; i < count; i++) items[i] = read(ref this);
            return items;
        }
    }
}
