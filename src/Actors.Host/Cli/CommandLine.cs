using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Actors.Host.Hosting;
using Actors.Host.Roles;
using Actors.Net.Configuration;

namespace Actors.Host.Cli;

/// <summary>
/// <c>actors &lt;command&gt; ...</c> on System.CommandLine, built from the commands' declarations
/// (<see cref="IRoleCommand"/>, <see cref="CliCommand"/>, <see cref="CliOption"/>): a new option or
/// command is one declaration, parsed, checked and listed in --help with no further change.
/// Exit codes: what the command returns; 2 for a usage error (unknown option, missing or extra
/// argument, a value the option does not accept, --help missing a command) or a configuration error.
/// </summary>
public static class CommandLine
{
    public const int UsageError = 2;

    /// <summary>A System.CommandLine command and the declaration it was built from.</summary>
    internal sealed class Declared(CliCommand command, string path, Command symbol)
    {
        public CliCommand Command { get; } = command;
        /// <summary>"actors lab link toxic": how help and errors name it.</summary>
        public string Path { get; } = path;
        public Command Symbol { get; } = symbol;
        public Dictionary<string, (CliOption, Option)> Options { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, Argument<string>> Arguments { get; } = new(StringComparer.Ordinal);
    }

    public static async Task<int> RunAsync(IReadOnlyList<IRoleCommand> roles, IReadOnlyList<string> args)
    {
        var (root, declared) = Build(roles);
        // No @response-files: an argument starting with @ is a value like any other.
        var result = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        declared.TryGetValue(result.CommandResult.Command, out var command);
        var path = command?.Path ?? "actors";
        if (result.Action is not DeclaredHelp && result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"{path}: {Describe(result, command is null)} (try {path} --help)");
            return UsageError;
        }
        try
        {
            // No termination handler of System.CommandLine: the roles handle SIGINT/SIGTERM themselves
            // (a cluster member leaves first), and a client command is simply interrupted.
            return await result.InvokeAsync(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
                Output = StandardOutput.Writer,
            });
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"{path}: {ex.Message} (try {path} --help)");
            return UsageError;
        }
        catch (SettingsException ex)
        {
            Console.Error.WriteLine($"{path}: configuration error: {ex.Message}");
            return UsageError;
        }
    }

    /// <summary>One line for the first problem: the words the user typed, not the parser's internals.</summary>
    private static string Describe(ParseResult result, bool atRoot)
    {
        if (result.UnmatchedTokens is [var token, ..])
            return atRoot ? $"unknown role '{token}'"
                : token.StartsWith('-') ? $"unknown option {token}" : $"unexpected argument '{token}'";
        // System.CommandLine's messages may span lines (the accepted values): one line, as every error here.
        return System.Text.RegularExpressions.Regex.Replace(result.Errors[0].Message, @"\s*\n\s*", " ");
    }

    internal static (RootCommand Root, Dictionary<Command, Declared> Declared) Build(IReadOnlyList<IRoleCommand> roles)
    {
        var root = new RootCommand("actors: every role of the system from one binary");
        var declared = new Dictionary<Command, Declared>();
        foreach (var role in roles)
        {
            var command = new CliCommand(role.Name, role.Summary, role.Options, role.RunAsync)
            {
                Arguments = role.Arguments,
                Subcommands = role.Subcommands,
            };
            root.Subcommands.Add(Add(command, $"actors {role.Name}", role.Name, declared));
        }
        // `actors` alone: the list of roles, as a usage error.
        root.SetAction(_ => { StandardOutput.Writer.Write(RootHelp(roles)); return UsageError; });
        foreach (var help in root.Options.OfType<HelpOption>())
            help.Action = new DeclaredHelp(declared, RootHelp(roles));
        return (root, declared);
    }

    private static Command Add(CliCommand command, string path, string role, Dictionary<Command, Declared> declared)
    {
        var symbol = new Command(command.Name, command.Summary);
        var entry = new Declared(command, path, symbol);
        foreach (var option in command.Options)
        {
            var built = Build(option);
            symbol.Options.Add(built);
            entry.Options[option.Name] = (option, built);
        }
        foreach (var argument in command.Arguments)
        {
            var built = new Argument<string>(argument.Name) { Description = argument.Help };
            symbol.Arguments.Add(built);
            entry.Arguments[argument.Name] = built;
        }
        foreach (var sub in command.Subcommands)
            symbol.Subcommands.Add(Add(sub, $"{path} {sub.Name}", role, declared));
        symbol.SetAction((result, cancel) =>
        {
            RoleFailure.Command = role;
            return command.Run(new ParsedArguments(result, entry, cancel));
        });
        declared[symbol] = entry;
        return symbol;
    }

    private static Option Build(CliOption declared)
    {
        var aliases = declared.Aliases ?? [];
        Option option;
        if (declared.IsFlag)
            option = new Option<bool>(declared.Name, aliases) { Arity = ArgumentArity.Zero };
        else if (declared.Repeatable)
            // One value per occurrence: --seed a --seed b.
            option = new Option<string[]>(declared.Name, aliases) { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        else
        {
            var single = new Option<string>(declared.Name, aliases);
            if (declared.Choices is { Length: > 0 } choices) single.AcceptOnlyFromAmong(choices);
            option = single;
        }
        option.Description = declared.Help;
        option.HelpName = declared.ValueName;
        option.Required = declared.Required;
        return option;
    }

    private static string RootHelp(IReadOnlyList<IRoleCommand> roles) =>
        "Usage: actors <role> [options]    (actors <role> --help for its options)\n\nRoles:\n"
        + string.Concat(roles.Select(c => $"  {c.Name,-12}{c.Summary}\n"));

    /// <summary>--help (and -h) anywhere: the help of the command it follows, from its declaration.</summary>
    private sealed class DeclaredHelp(Dictionary<Command, Declared> declared, string rootHelp) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            StandardOutput.Writer.Write(declared.TryGetValue(parseResult.CommandResult.Command, out var command)
                ? Help.ForCommand(command.Path, command.Command)
                : rootHelp);
            StandardOutput.Writer.Flush();
            return 0;
        }
    }
}
