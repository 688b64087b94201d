using System.Text;

namespace Actors.Host.Cli;

public static class Help
{
    public static string ForCommand(string usage, string summary, IReadOnlyList<CliOption> options)
    {
        var text = new StringBuilder().Append("Usage: ").AppendLine(usage).AppendLine().AppendLine(summary);
        if (options.Count == 0) return text.ToString();
        text.AppendLine().AppendLine("Options:");
        foreach (var option in options)
        {
            var left = option.IsFlag ? option.Name : $"{option.Name} {option.ValueName}";
            text.Append("  ").Append(left.PadRight(28)).Append(option.Help);
            if (option.HoconKey is not null) text.Append(" [").Append(option.HoconKey).Append(']');
            text.AppendLine();
        }
        text.AppendLine("  --help".PadRight(30) + "show this help");
        return text.ToString();
    }
}
