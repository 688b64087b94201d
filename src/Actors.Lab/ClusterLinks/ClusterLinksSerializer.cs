using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Actors.Lab.ClusterLinks;

/// <summary>
/// Explicit, stable wire shape for the cluster-link messages the lab sends to every node's
/// <see cref="ClusterLinkFaults"/>: UTF-8 JSON of a fixed DTO per type, named by a two-letter
/// manifest; directions travel as their names ("Outbound", "Inbound", "Both"). Renaming a C# type
/// does not change the wire; adding a field with a default is compatible. Bound in
/// config/cluster.conf (every node receives these).
/// </summary>
public sealed class ClusterLinksSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const string Hocon = """
        akka.actor {
          serializers.actors-cluster-links = "Actors.Lab.ClusterLinks.ClusterLinksSerializer, Actors.Lab"
          serialization-bindings { "Actors.Lab.ClusterLinks.IClusterLinksMessage, Actors.Lab" = actors-cluster-links }
        }
        """;

    public override int Identifier => 5301;

    private sealed record BlockDto(List<string> Addresses, string Direction);
    private sealed record HealDto(List<string> Addresses);
    private sealed record LinkDto(string Address, string Direction);
    private sealed record StateDto(string Node, List<LinkDto> Blocked);
    private sealed record ErrorDto(string Node, string Reason);
    private sealed record EmptyDto;

    public override string Manifest(object o) => o switch
    {
        BlockTraffic => "BT",
        HealTraffic => "HT",
        GetClusterLinkState => "GS",
        ClusterLinkState => "ST",
        ClusterLinkError => "ER",
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(ClusterLinksSerializer)}"),
    };

    public override byte[] ToBinary(object o) => o switch
    {
        BlockTraffic m => Json(new BlockDto(m.Addresses.ToList(), m.Direction.ToString())),
        HealTraffic m => Json(new HealDto(m.Addresses.ToList())),
        GetClusterLinkState => Json(new EmptyDto()),
        ClusterLinkState m => Json(new StateDto(m.Node, m.Blocked.Select(b => new LinkDto(b.Address, b.Direction.ToString())).ToList())),
        ClusterLinkError m => Json(new ErrorDto(m.Node, m.Reason)),
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(ClusterLinksSerializer)}"),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        "BT" => Read<BlockDto>(bytes) is var b ? new BlockTraffic(b.Addresses ?? [], Direction(b.Direction)) : null!,
        "HT" => new HealTraffic(Read<HealDto>(bytes).Addresses ?? []),
        "GS" => GetClusterLinkState.Instance,
        "ST" => Read<StateDto>(bytes) is var s ? new ClusterLinkState(s.Node, (s.Blocked ?? []).Select(l => new BlockedLink(l.Address, Direction(l.Direction))).ToList()) : null!,
        "ER" => Read<ErrorDto>(bytes) is var e ? new ClusterLinkError(e.Node, e.Reason) : null!,
        _ => throw new SerializationException($"unknown manifest '{manifest}' for {nameof(ClusterLinksSerializer)}"),
    };

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize<T>(bytes) ?? throw new SerializationException($"empty {typeof(T).Name}");

    private static BlockDirection Direction(string text) =>
        Enum.TryParse<BlockDirection>(text, ignoreCase: false, out var direction) && Enum.IsDefined(direction)
            ? direction
            : throw new SerializationException($"unknown block direction '{text}'");
}
