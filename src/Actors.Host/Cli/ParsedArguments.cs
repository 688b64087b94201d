using System.CommandLine;
using System.Text;

namespace Actors.Host.Cli;

/// <summary>A user error on the command line; printed as one line with a pointer to --help (exit code 2).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The options and arguments given to one command, read by the names they were declared with
/// (<see cref="CliOption.Name"/>, <see cref="CliArgument.Name"/>). System.CommandLine parsed them.
/// </summary>
public sealed class ParsedArguments
{
    private readonly ParseResult _result;
    private readonly CommandLine.Declared _command;

    internal ParsedArguments(ParseResult result, CommandLine.Declared command, CancellationToken cancel)
    {
        _result = result;
        _command = command;
        Cancel = cancel;
    }

    /// <summary>The command's options as declared (its own; shared ones are simply in the same list).</summary>
    public IReadOnlyList<CliOption> Options => _command.Command.Options;

    public CancellationToken Cancel { get; }

    /// <summary>The last value of a value option, "on" for a flag that is set, null when absent.</summary>
    public string? Value(string name) => Values(name) is [.., var last] ? last : null;

    /// <summary>Every value of an option, in order (a flag that is set: ["on"]).</summary>
    public IReadOnlyList<string> Values(string name)
    {
        var (declared, option) = Lookup(name);
        if (_result.GetResult(option) is null) return [];
        if (declared.IsFlag) return _result.GetValue((Option<bool>)option) ? ["on"] : [];
        if (declared.Repeatable) return _result.GetValue((Option<string[]>)option) ?? [];
        return _result.GetValue((Option<string>)option) is { } value ? [value] : [];
    }

    public bool Has(string name) => Values(name).Count > 0;

    /// <summary>A positional argument's value.</summary>
    public string Argument(string name) =>
        _command.Arguments.TryGetValue(name, out var argument)
            ? _result.GetValue(argument) ?? ""
            : throw new ArgumentException($"the command '{_command.Command.Name}' declares no argument {name}");

    /// <summary>The options that carry a HOCON key, as a HOCON document (the strongest layer).</summary>
    public string ToHocon()
    {
        var hocon = new StringBuilder();
        foreach (var option in Options)
        {
            if (option.HoconKey is null) continue;
            var values = Values(option.Name);
            if (values.Count == 0) continue;
            hocon.Append(option.HoconKey).Append(" = ");
            if (option.Repeatable)
                hocon.Append('[').AppendJoin(", ", values.Select(Quote)).Append(']');
            else
                hocon.Append(Quote(values[^1]));
            hocon.Append('\n');
        }
        return hocon.ToString();
    }

    private (CliOption, Option) Lookup(string name) =>
        _command.Options.TryGetValue(name, out var found)
            ? found
            : throw new ArgumentException($"the command '{_command.Command.Name}' declares no option {name}");

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
