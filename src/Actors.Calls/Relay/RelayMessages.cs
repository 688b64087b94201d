using Actors.Calls.Serialization;
using Akka.DistributedData;

namespace Actors.Calls.Relay;

/// <summary>
/// What a relay node publishes in the cluster (Distributed Data, key <see cref="RelayRegistry.Key"/>):
/// where callers reach it, the path of its <see cref="RelayServer"/> for allocation requests, its load.
/// </summary>
public sealed record RelayInfo(string NodeAddress, string ServicePath, string Host, int Port, int Sessions, int MaxSessions, long UpdatedAtTicks) : ICallsClusterMessage
{
    public double Load => MaxSessions == 0 ? 1 : (double)Sessions / MaxSessions;
}

public static class RelayRegistry
{
    public static readonly LWWDictionaryKey<string, RelayInfo> Key = new("call-relays");
}

/// <summary>Asked by a rendezvous: open a session for one call. Answered with <see cref="SessionAllocated"/> or <see cref="AllocationRefused"/>.</summary>
public sealed record AllocateSession(string CallId) : ICallsClusterMessage;
/// <summary>Two single-use tokens, one per side of the call; they expire unused after the session TTL.</summary>
public sealed record SessionAllocated(string CallId, string NodeAddress, string Host, int Port, string CallerToken, string CalleeToken) : ICallsClusterMessage;
public sealed record AllocationRefused(string CallId, string Reason) : ICallsClusterMessage;
