using System.Text;

namespace Actors.Host.Cli;

/// <summary>A user error on the command line; printed as one line with a pointer to --help.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The options given to one command, plus any positional arguments.</summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    public List<string> Positional { get; } = [];
    public bool HelpRequested { get; private set; }

    public static ParsedArguments Parse(IReadOnlyList<string> args, IReadOnlyList<CliOption> options)
    {
        var parsed = new ParsedArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h") { parsed.HelpRequested = true; continue; }
            if (!arg.StartsWith("--", StringComparison.Ordinal)) { parsed.Positional.Add(arg); continue; }

            var name = arg;
            string? inlineValue = null;
            var equals = arg.IndexOf('=');
            if (equals > 0) { name = arg[..equals]; inlineValue = arg[(equals + 1)..]; }
            var option = options.FirstOrDefault(o => o.Name == name)
                         ?? throw new UsageException($"unknown option {name}");
            string value;
            if (option.IsFlag) value = inlineValue ?? "on";
            else if (inlineValue is not null) value = inlineValue;
            else if (i + 1 < args.Count) value = args[++i];
            else throw new UsageException($"{name} needs a value ({option.ValueName})");

            if (!parsed._values.TryGetValue(option.Name, out var list))
                parsed._values[option.Name] = list = [];
            else if (!option.Repeatable)
                throw new UsageException($"{name} given more than once");
            list.Add(value);
        }
        return parsed;
    }

    public string? Value(string name) => _values.TryGetValue(name, out var list) ? list[^1] : null;
    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The options that carry a HOCON key, as a HOCON document (the strongest layer).</summary>
    public string ToHocon(IReadOnlyList<CliOption> options)
    {
        var hocon = new StringBuilder();
        foreach (var option in options)
        {
            if (option.HoconKey is null || !_values.TryGetValue(option.Name, out var values)) continue;
            hocon.Append(option.HoconKey).Append(" = ");
            if (option.Repeatable)
                hocon.Append('[').AppendJoin(", ", values.Select(Quote)).Append(']');
            else
                hocon.Append(Quote(values[^1]));
            hocon.Append('\n');
        }
        return hocon.ToString();
    }

    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
