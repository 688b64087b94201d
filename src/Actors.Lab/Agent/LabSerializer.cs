using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using Akka.Serialization;

namespace Actors.Lab.Agent;

/// <summary>
/// Explicit, stable wire shape for agent → lab messages: UTF-8 JSON of fixed DTOs, named by a
/// manifest with a version ("report/1", "event/1"). The DTOs, not the C# records, are the wire:
/// renaming a record changes nothing; a new field must get a default so older nodes still read.
/// </summary>
public sealed class LabSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const string Hocon = """
        akka.actor {
          serializers.actors-lab = "Actors.Lab.Agent.LabSerializer, Actors.Lab"
          serialization-bindings { "Actors.Lab.Agent.ILabMessage, Actors.Lab" = actors-lab }
        }
        """;

    public override int Identifier => 5300;

    private const string ReportManifest = "report/1";
    private const string EventManifest = "event/1";
    private const string FaultManifest = "fault/1";
    private const string FaultAnswerManifest = "fault-answer/1";

    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    // The wire shapes. Field names are the JSON keys (camelCase).
    private sealed record FigureDto(string Name, string Kind, string Unit, string Description, string Tags, double Value);
    private sealed record ReportDto(string Node, string Address, string[] Roles, int Pid, long StartedUnixMs, long SentUnixMs, FigureDto[] Figures);
    private sealed record EventDto(string Node, string Kind, string Text, long UnixMs);
    private sealed record FaultDto(string Action, string Name, string Signal);
    private sealed record FaultAnswerDto(int Status, string Text);

    public override string Manifest(object o) => o switch
    {
        NodeReport => ReportManifest,
        NodeEvent => EventManifest,
        Processes.MachineFault => FaultManifest,
        Processes.MachineFaultAnswer => FaultAnswerManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(LabSerializer)}"),
    };

    public override byte[] ToBinary(object o) => o switch
    {
        NodeReport r => JsonSerializer.SerializeToUtf8Bytes(new ReportDto(r.Node, r.Address, [.. r.Roles], r.Pid, r.StartedUnixMs, r.SentUnixMs,
            [.. r.Figures.Select(f => new FigureDto(f.Name, f.Kind, f.Unit, f.Description, f.Tags, f.Value))]), Options),
        NodeEvent e => JsonSerializer.SerializeToUtf8Bytes(new EventDto(e.Node, e.Kind, e.Text, e.UnixMs), Options),
        Processes.MachineFault f => JsonSerializer.SerializeToUtf8Bytes(new FaultDto(f.Action, f.Name, f.Signal), Options),
        Processes.MachineFaultAnswer a => JsonSerializer.SerializeToUtf8Bytes(new FaultAnswerDto(a.Status, a.Text), Options),
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(LabSerializer)}"),
    };

    public override object FromBinary(byte[] bytes, string manifest)
    {
        switch (manifest)
        {
            case ReportManifest:
                var r = JsonSerializer.Deserialize<ReportDto>(bytes, Options) ?? throw new SerializationException("empty report");
                return new NodeReport(r.Node, r.Address, r.Roles ?? [], r.Pid, r.StartedUnixMs, r.SentUnixMs,
                    (r.Figures ?? []).Select(f => new Figure(f.Name, f.Kind, f.Unit ?? "", f.Description ?? "", f.Tags ?? "", f.Value)).ToArray());
            case EventManifest:
                var e = JsonSerializer.Deserialize<EventDto>(bytes, Options) ?? throw new SerializationException("empty event");
                return new NodeEvent(e.Node, e.Kind, e.Text, e.UnixMs);
            case FaultManifest:
                var f = JsonSerializer.Deserialize<FaultDto>(bytes, Options) ?? throw new SerializationException("empty fault");
                return new Processes.MachineFault(f.Action ?? "", f.Name ?? "", f.Signal ?? "");
            case FaultAnswerManifest:
                var a = JsonSerializer.Deserialize<FaultAnswerDto>(bytes, Options) ?? throw new SerializationException("empty fault answer");
                return new Processes.MachineFaultAnswer(a.Status, a.Text ?? "");
            default:
                throw new SerializationException($"unknown manifest '{manifest}' for {nameof(LabSerializer)}");
        }
    }
}
