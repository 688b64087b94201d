using System.Text;
using System.Text.Json;
using Actors.Calls.Relay;
using Actors.Calls.Rendezvous;
using Akka.Actor;
using Akka.Serialization;

namespace Actors.Calls.Serialization;

/// <summary>Marks the messages and replicated values that cross nodes; bound to <see cref="CallsSerializer"/>.</summary>
public interface ICallsClusterMessage;

/// <summary>
/// Explicit, stable wire shape for everything Actors.Calls sends between cluster nodes: UTF-8
/// JSON of a fixed DTO per type, named by a two-letter manifest; actor references travel as full
/// actor paths. Renaming a C# type does not change the wire; adding a field with a default is
/// compatible. Bound in config/cluster.conf (every node, because presence and relay load are
/// replicated to every node by Distributed Data).
/// </summary>
public sealed class CallsSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const string Hocon = """
        akka.actor {
          serializers.actors-calls = "Actors.Calls.Serialization.CallsSerializer, Actors.Calls"
          serialization-bindings { "Actors.Calls.Serialization.ICallsClusterMessage, Actors.Calls" = actors-calls }
        }
        """;

    public override int Identifier => 5201;

    private sealed record IncomingCallDto(string CallId, string CallerId, string CallerSession);
    private sealed record CallAnsweredDto(string CallId, string CalleeId, string CalleeHost, int CalleeListenPort, bool CalleeReachable, string CalleeSession,
        int CalleeObservedPort = 0, bool CalleeCanPunch = false, double CalleeRttMs = 0);

    public override string Manifest(object o) => o switch
    {
        IncomingCall => "IC",
        CallAnswered => "CA",
        CallDeclined => "CD",
        PathChosen => "PC",
        PunchChosen => "PP",
        UdpOffered => "UO",
        CallClosed => "CC",
        PathBroken => "PB",
        AllocateSession => "AS",
        SessionAllocated => "SA",
        AllocationRefused => "AR",
        PresenceEntry => "PE",
        RelayInfo => "RI",
        _ => throw new ArgumentException($"{o.GetType()} is not serialized by {nameof(CallsSerializer)}"),
    };

    public override byte[] ToBinary(object o) => o switch
    {
        IncomingCall m => Json(new IncomingCallDto(m.CallId, m.CallerId, Path(m.CallerSession))),
        CallAnswered m => Json(new CallAnsweredDto(m.CallId, m.CalleeId, m.CalleeHost, m.CalleeListenPort, m.CalleeReachable, Path(m.CalleeSession),
            m.CalleeObservedPort, m.CalleeCanPunch, m.CalleeRttMs)),
        _ => JsonSerializer.SerializeToUtf8Bytes(o, o.GetType()),
    };

    public override object FromBinary(byte[] bytes, string manifest) => manifest switch
    {
        "IC" => Read<IncomingCallDto>(bytes) is var d ? new IncomingCall(d.CallId, d.CallerId, Resolve(d.CallerSession)) : null!,
        "CA" => Read<CallAnsweredDto>(bytes) is var d ? new CallAnswered(d.CallId, d.CalleeId, d.CalleeHost, d.CalleeListenPort, d.CalleeReachable, Resolve(d.CalleeSession),
            d.CalleeObservedPort, d.CalleeCanPunch, d.CalleeRttMs) : null!,
        "CD" => Read<CallDeclined>(bytes),
        "PC" => Read<PathChosen>(bytes),
        "PP" => Read<PunchChosen>(bytes),
        "UO" => Read<UdpOffered>(bytes),
        "CC" => Read<CallClosed>(bytes),
        "PB" => Read<PathBroken>(bytes),
        "AS" => Read<AllocateSession>(bytes),
        "SA" => Read<SessionAllocated>(bytes),
        "AR" => Read<AllocationRefused>(bytes),
        "PE" => Read<PresenceEntry>(bytes),
        "RI" => Read<RelayInfo>(bytes),
        _ => throw new System.Runtime.Serialization.SerializationException($"unknown manifest '{manifest}' for {nameof(CallsSerializer)}"),
    };

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private static T Read<T>(byte[] bytes) =>
        JsonSerializer.Deserialize<T>(bytes) ?? throw new System.Runtime.Serialization.SerializationException($"empty {typeof(T).Name}: {Encoding.UTF8.GetString(bytes)}");

    private static string Path(IActorRef actor) => Akka.Serialization.Serialization.SerializedActorPath(actor);

    private IActorRef Resolve(string path) => system.Provider.ResolveActorRef(path);
}
