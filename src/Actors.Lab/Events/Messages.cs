using Akka.Actor;

namespace Actors.Lab.Events;

/// <summary>
/// One line of the lab's event log. <paramref name="Kind"/> is kebab-case: member events
/// (<c>member-up</c>, <c>member-unreachable</c>, <c>member-removed</c>, ...), faults
/// (<c>fault-begun</c>, <c>fault-ended</c>, <c>fault-refused</c>), role events from agents
/// (<c>swarm-joined</c>, <c>call-placed</c>, ...).
/// </summary>
public sealed record LabEvent(long Seq, long UnixMs, string Node, string Kind, string Text);

/// <summary>Something to record; the log gives it a sequence number and a time.</summary>
public sealed record RecordEvent(string Node, string Kind, string Text, long? UnixMs = null);

/// <summary>Send me the last <paramref name="Backlog"/> events, then every new one, until I stop.</summary>
public sealed record SubscribeEvents(IActorRef Subscriber, int Backlog);

public sealed record UnsubscribeEvents(IActorRef Subscriber);

/// <summary>Ask for the last <paramref name="Count"/> events; answered with <see cref="RecentEvents"/>.</summary>
public sealed record GetRecentEvents(int Count);

public sealed record RecentEvents(IReadOnlyList<LabEvent> Events);
