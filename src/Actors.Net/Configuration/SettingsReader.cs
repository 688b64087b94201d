using Akka.Configuration;

namespace Actors.Net.Configuration;

/// <summary>A configuration value that is missing or wrong; the message names the HOCON key.</summary>
public sealed class SettingsException(string key, string problem) : Exception($"{key}: {problem}")
{
    public string Key { get; } = key;
}

/// <summary>
/// Reads typed values from HOCON so that a bad value fails at start with one line naming its key,
/// instead of surfacing later as a confusing failure deep inside a role.
/// </summary>
public sealed class SettingsReader(Config config, string prefix)
{
    private string Key(string name) => $"{prefix}.{name}";

    private T Read<T>(string name, Func<string, T> parse, string expected)
    {
        var key = Key(name);
        if (!config.HasPath(key))
            throw new SettingsException(key, "missing");
        string raw;
        try { raw = config.GetString(key); }
        catch (Exception) { throw new SettingsException(key, $"expected {expected}"); }
        try { return parse(key); }
        catch (SettingsException) { throw; }
        catch (Exception) { throw new SettingsException(key, $"expected {expected}, got \"{raw}\""); }
    }

    public string String(string name, bool allowEmpty = false) => Read(name, key =>
    {
        var value = config.GetString(key);
        if (!allowEmpty && string.IsNullOrWhiteSpace(value)) throw new SettingsException(key, "must not be empty");
        return value;
    }, "a string");

    public int Int(string name, int min, int max) => Read(name, key =>
    {
        var value = int.Parse(config.GetString(key), System.Globalization.CultureInfo.InvariantCulture);
        if (value < min || value > max) throw new SettingsException(key, $"must be between {min} and {max}, got {value}");
        return value;
    }, $"an integer between {min} and {max}");

    public int Port(string name, bool allowZero = true) => Int(name, allowZero ? 0 : 1, 65535);

    public long Bytes(string name, long min, long max) => Read(name, key =>
    {
        var value = config.GetByteSize(key) ?? throw new FormatException();
        if (value < min || value > max) throw new SettingsException(key, $"must be between {min} and {max} bytes, got {value}");
        return value;
    }, "a size such as 64 KiB");

    public TimeSpan Duration(string name, TimeSpan min, TimeSpan max) => Read(name, key =>
    {
        var value = config.GetTimeSpan(key, null, allowInfinite: false);
        if (value < min || value > max) throw new SettingsException(key, $"must be between {min} and {max}, got {value}");
        return value;
    }, "a duration such as 10s");

    public bool Bool(string name) => Read(name, key => config.GetString(key).ToLowerInvariant() switch
    {
        "on" or "true" or "yes" => true,
        "off" or "false" or "no" => false,
        _ => throw new FormatException(),
    }, "on or off");

    public IReadOnlyList<string> StringList(string name) => Read(name, key => (IReadOnlyList<string>)config.GetStringList(key).ToList(), "a list of strings");
}
