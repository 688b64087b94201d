using System.Text;

namespace Actors.Host.Cli;

/// <summary>The help text of one command, from its declaration: usage, summary, arguments, options (with their HOCON keys), sub-commands.</summary>
public static class Help
{
    public static string ForCommand(string path, CliCommand command)
    {
        var arguments = string.Concat(command.Arguments.Select(a => " " + a.Name));
        var text = new StringBuilder().Append("Usage: ");
        var runsAlone = command.Options.Count > 0 || command.Subcommands.Count == 0;
        if (runsAlone) text.Append(path).Append(arguments).AppendLine(command.Options.Count > 0 ? " [options]" : "");
        if (command.Subcommands.Count > 0)
        {
            if (runsAlone) text.Append("       ");
            text.Append(path).AppendLine(" COMMAND ...    (" + path + " COMMAND --help for its options)");
        }
        text.AppendLine().AppendLine(command.Summary);

        if (command.Arguments.Count > 0)
        {
            text.AppendLine().AppendLine("Arguments:");
            foreach (var argument in command.Arguments) Row(text, argument.Name, argument.Help);
        }
        if (command.Subcommands.Count > 0)
        {
            text.AppendLine().AppendLine("Commands:");
            foreach (var sub in command.Subcommands) Row(text, sub.Name, sub.Summary);
        }
        text.AppendLine().AppendLine("Options:");
        foreach (var option in command.Options)
        {
            var names = string.Join(", ", [.. option.Aliases ?? [], option.Name]);
            var left = option.IsFlag ? names : $"{names} {option.ValueName}";
            var help = option.Help;
            if (option.Choices is { Length: > 0 } choices) help += $" ({string.Join("|", choices)})";
            if (option.Required) help += " (required)";
            if (option.HoconKey is not null) help += $" [{option.HoconKey}]";
            Row(text, left, help);
        }
        Row(text, "-h, --help", "show this help");
        return text.ToString();
    }

    private static void Row(StringBuilder text, string left, string help) =>
        text.Append("  ").Append(left.PadRight(28)).Append(' ').AppendLine(help);
}
