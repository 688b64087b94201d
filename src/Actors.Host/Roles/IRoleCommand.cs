using Actors.Host.Cli;

namespace Actors.Host.Roles;

/// <summary>
/// One sub-command of <c>actors</c>: a role (web, tracker, ...) or a tool (torrent). It declares its
/// options, arguments and sub-commands; <see cref="CommandLine"/> builds the parser and the help
/// from them, so adding an option or a command is one declaration.
/// </summary>
public interface IRoleCommand
{
    string Name { get; }
    string Summary { get; }
    IReadOnlyList<CliOption> Options { get; }
    IReadOnlyList<CliArgument> Arguments => [];
    IReadOnlyList<CliCommand> Subcommands => [];

    /// <summary>Runs <c>actors NAME [options]</c> (a command made of sub-commands only: <see cref="CliCommand.NeedsSubcommand"/>).</summary>
    Task<int> RunAsync(ParsedArguments args);
}
