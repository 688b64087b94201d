namespace Actors.Calls.Protocol;

/// <summary>The identities allowed to register, with their shared secrets (file: one <c>name:secret</c> a line).</summary>
public sealed class UserDirectory(IReadOnlyDictionary<string, string> secrets)
{
    public IReadOnlyDictionary<string, string> Secrets { get; } = secrets;

    public bool TryGetSecret(string id, out string secret) => Secrets.TryGetValue(id, out secret!);

    /// <summary>Parses the users file; blank lines and lines starting with '#' are skipped.</summary>
    public static UserDirectory Parse(IEnumerable<string> lines, string origin = "users file")
    {
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var colon = line.IndexOf(':');
            if (colon <= 0 || colon == line.Length - 1)
                throw new FormatException($"{origin} line {number}: expected name:secret");
            var name = line[..colon];
            if (!CallAuth.IsValidId(name))
                throw new FormatException($"{origin} line {number}: '{name}' is not a valid identity (letters, digits, . _ -, at most 64)");
            if (!secrets.TryAdd(name, line[(colon + 1)..]))
                throw new FormatException($"{origin} line {number}: '{name}' appears twice");
        }
        return new UserDirectory(secrets);
    }

    public static UserDirectory Load(string path) => Parse(File.ReadLines(path), path);
}
