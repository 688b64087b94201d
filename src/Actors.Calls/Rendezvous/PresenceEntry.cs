using Actors.Calls.Serialization;
using Akka.DistributedData;

namespace Actors.Calls.Rendezvous;

/// <summary>
/// One registered caller, replicated to every rendezvous node (Distributed Data, last writer wins):
/// the session actor that holds its connection, and what the path decision needs.
/// </summary>
public sealed record PresenceEntry(string Id, string SessionPath, string NodeAddress, string ObservedHost, int ListenPort, bool Reachable, long RegisteredAtTicks) : ICallsClusterMessage;

public static class PresenceRegistry
{
    public static readonly LWWDictionaryKey<string, PresenceEntry> Key = new("call-presence");
}
