using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Actors.Lab.Links;

/// <summary>
/// Explicit, stable wire shape for the link messages when they cross nodes: UTF-8 JSON of a fixed
/// DTO per type, named by a two-letter manifest. A toxic travels as Toxiproxy's JSON does —
/// name, type, stream, toxicity, attributes — and is rebuilt with <see cref="Toxic.Create"/>, so a
/// bad toxic from the wire fails like a bad one from the CLI. Bound in config/cluster.conf.
/// </summary>
public sealed class LinksSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const string Hocon = """
        akka.actor {
          serializers.actors-links = "Actors.Lab.Links.LinksSerializer, Actors.Lab"
          serialization-bindings { "Actors.Lab.Links.ILinkMessage, Actors.Lab" = actors-links }
        }
        """;

    public override int Identifier => 5302;

    private sealed record ToxicDto(string Name, string Type, string Stream, double Toxicity, Dictionary<string, long> Attributes);
    private sealed record StatusDto(string Name, string Listen, string Target, List<ToxicDto> Toxics, int OpenConnections, long AcceptedConnections, long BytesUpstream, long BytesDownstream, long BufferedBytes);
    private sealed record AddLinkDto(string Name, string Listen, string Target);
    private sealed record NameDto(string Name);
    private sealed record AddToxicDto(string Link, ToxicDto Toxic);
    private sealed record RemoveToxicDto(string Link, string ToxicName);
    private sealed record ErrorDto(string Name, string Reason);
    private sealed record ListDto(List<StatusDto> Links);
    private sealed record ChangedDto(string Link, string Change, List<ToxicDto> Toxics);
    private sealed record EmptyDto;

    public override string Manifest(object o) => o switch
    {
        AddLink => "AL",
        RemoveLink => "RL",
        LinkRemoved => "LR",
        ListLinks => "LL",
        LinkList => "LS",
        GetLink => "GL",
        AddToxic => "AT",
        RemoveToxic => "RT",
        ClearToxics => "CT",
        ResetLinks => "RS",
        LinkError => "LE",
        LinkStatus => "ST",
        LinkChanged => "LC",
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(LinksSerializer)}"),
    };

    public override byte[] ToBinary(object o) => o switch
    {
        AddLink m => Json(new AddLinkDto(m.Name, m.Listen, m.Target)),
        RemoveLink m => Json(new NameDto(m.Name)),
        LinkRemoved m => Json(new NameDto(m.Name)),
        ListLinks or ResetLinks => Json(new EmptyDto()),
        LinkList m => Json(new ListDto(m.Links.Select(ToDto).ToList())),
        GetLink m => Json(new NameDto(m.Name)),
        AddToxic m => Json(new AddToxicDto(m.Link, ToDto(m.Toxic))),
        RemoveToxic m => Json(new RemoveToxicDto(m.Link, m.ToxicName)),
        ClearToxics m => Json(new NameDto(m.Link)),
        LinkError m => Json(new ErrorDto(m.Name, m.Reason)),
        LinkStatus m => Json(ToDto(m)),
        LinkChanged m => Json(new ChangedDto(m.Link, m.Change, m.Toxics.Select(ToDto).ToList())),
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(LinksSerializer)}"),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        "AL" => Read<AddLinkDto>(bytes) is var a ? new AddLink(a.Name, a.Listen, a.Target) : null!,
        "RL" => new RemoveLink(Read<NameDto>(bytes).Name),
        "LR" => new LinkRemoved(Read<NameDto>(bytes).Name),
        "LL" => ListLinks.Instance,
        "LS" => new LinkList((Read<ListDto>(bytes).Links ?? []).Select(FromDto).ToList()),
        "GL" => new GetLink(Read<NameDto>(bytes).Name),
        "AT" => Read<AddToxicDto>(bytes) is var t ? new AddToxic(t.Link, FromDto(t.Toxic)) : null!,
        "RT" => Read<RemoveToxicDto>(bytes) is var r ? new RemoveToxic(r.Link, r.ToxicName) : null!,
        "CT" => new ClearToxics(Read<NameDto>(bytes).Name),
        "RS" => ResetLinks.Instance,
        "LE" => Read<ErrorDto>(bytes) is var e ? new LinkError(e.Name, e.Reason) : null!,
        "ST" => FromDto(Read<StatusDto>(bytes)),
        "LC" => Read<ChangedDto>(bytes) is var c ? new LinkChanged(c.Link, c.Change, (c.Toxics ?? []).Select(FromDto).ToList()) : null!,
        _ => throw new SerializationException($"unknown manifest '{manifest}' for {nameof(LinksSerializer)}"),
    };

    private static ToxicDto ToDto(Toxic t) =>
        new(t.Name, t.Kind.Type, Toxic.StreamName(t.Stream), t.Toxicity, t.Kind.Attributes.ToDictionary());

    private static Toxic FromDto(ToxicDto t)
    {
        try { return Toxic.Create(t.Type, t.Stream, t.Attributes, t.Toxicity, t.Name); }
        catch (ArgumentException e) { throw new SerializationException($"bad toxic on the wire: {e.Message}"); }
    }

    private static StatusDto ToDto(LinkStatus s) =>
        new(s.Name, s.Listen, s.Target, s.Toxics.Select(ToDto).ToList(), s.OpenConnections, s.AcceptedConnections, s.BytesUpstream, s.BytesDownstream, s.BufferedBytes);

    private static LinkStatus FromDto(StatusDto s) =>
        new(s.Name, s.Listen, s.Target, (s.Toxics ?? []).Select(FromDto).ToList(), s.OpenConnections, s.AcceptedConnections, s.BytesUpstream, s.BytesDownstream, s.BufferedBytes);

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize<T>(bytes) ?? throw new SerializationException($"empty {typeof(T).Name}");
}
