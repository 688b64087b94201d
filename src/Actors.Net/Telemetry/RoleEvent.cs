namespace Actors.Net.Telemetry;

/// <summary>
/// Something a role did that people watching the cluster care about (a swarm joined, a call placed
/// with its path, a relay failover). Roles publish it on their ActorSystem's EventStream with one
/// line; the Lab's agent on the node forwards it to the lab. Kinds are kebab-case
/// (<c>swarm-joined</c>, <c>call-placed</c>); the text is one human line.
/// </summary>
public sealed record RoleEvent(string Kind, string Text);
