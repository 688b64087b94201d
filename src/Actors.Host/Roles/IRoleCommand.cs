namespace Actors.Host.Roles;

/// <summary>One sub-command of <c>actors</c>: a role (web, tracker, ...) or a tool (torrent).</summary>
public interface IRoleCommand
{
    string Name { get; }
    string Summary { get; }
    Task<int> RunAsync(IReadOnlyList<string> args);
}
