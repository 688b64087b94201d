using System.Globalization;
using Actors.Net.Configuration;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Actors.Lab.Links;

/// <summary>
/// Reads <c>actors.lab.links</c>: a list of <c>{ name, listen, target, toxics = [...] }</c>, each
/// toxic <c>{ type, stream, name?, toxicity?, ...Toxiproxy attributes }</c>. A bad entry throws
/// <see cref="SettingsException"/> naming its key, e.g. <c>actors.lab.links[1].target</c>.
/// </summary>
public static class LinkConfig
{
    public const string LinksKey = "actors.lab.links";
    private static readonly string[] ToxicFields = ["type", "stream", "name", "toxicity"];

    public static IReadOnlyList<LinkManager.LinkDefinition> ReadLinks(Config config)
    {
        if (!config.HasPath(LinksKey)) return [];
        IList<HoconValue> items;
        try { items = config.GetValue(LinksKey).GetArray(); }
        catch (Exception) { throw new SettingsException(LinksKey, "expected a list of { name, listen, target } objects"); }

        var links = new List<LinkManager.LinkDefinition>();
        for (var i = 0; i < items.Count; i++)
        {
            var key = $"{LinksKey}[{i}]";
            var fields = Fields(items[i], key);
            var name = Text(fields, "name", key);
            var listen = Text(fields, "listen", key);
            var target = Text(fields, "target", key);
            CheckEndpoint(listen, $"{key}.listen", allowZero: true);
            CheckEndpoint(target, $"{key}.target", allowZero: false);
            if (links.Any(l => l.Name == name)) throw new SettingsException($"{key}.name", $"link {name} is defined twice");
            var toxics = new List<Toxic>();
            if (fields.TryGetValue("toxics", out var toxicList))
            {
                IList<HoconValue> toxicItems;
                try { toxicItems = toxicList.GetArray(); }
                catch (Exception) { throw new SettingsException($"{key}.toxics", "expected a list of toxic objects"); }
                for (var j = 0; j < toxicItems.Count; j++)
                    toxics.Add(ReadToxic(toxicItems[j], $"{key}.toxics[{j}]"));
            }
            links.Add(new LinkManager.LinkDefinition(name, listen, target, toxics));
        }
        return links;
    }

    private static Toxic ReadToxic(HoconValue value, string key)
    {
        var fields = Fields(value, key);
        var attributes = new Dictionary<string, long>();
        foreach (var (field, v) in fields)
        {
            if (ToxicFields.Contains(field)) continue;
            if (!long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                throw new SettingsException($"{key}.{field}", $"expected an integer, got \"{v.GetString()}\"");
            attributes[field] = number;
        }
        var toxicity = 1.0;
        if (fields.TryGetValue("toxicity", out var t) && !double.TryParse(t.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out toxicity))
            throw new SettingsException($"{key}.toxicity", $"expected a number between 0 and 1, got \"{t.GetString()}\"");
        try
        {
            return Toxic.Create(Text(fields, "type", key), Text(fields, "stream", key), attributes, toxicity,
                fields.TryGetValue("name", out var n) ? n.GetString() : null);
        }
        catch (ArgumentException e) { throw new SettingsException(key, e.Message); }
    }

    private static Dictionary<string, HoconValue> Fields(HoconValue value, string key)
    {
        try { return value.GetObject().Items.ToDictionary(kv => kv.Key, kv => kv.Value); }
        catch (Exception) { throw new SettingsException(key, "expected an object { ... }"); }
    }

    private static string Text(Dictionary<string, HoconValue> fields, string field, string key)
    {
        if (!fields.TryGetValue(field, out var value)) throw new SettingsException($"{key}.{field}", "missing");
        var text = value.GetString();
        if (string.IsNullOrWhiteSpace(text)) throw new SettingsException($"{key}.{field}", "must not be empty");
        return text.Trim();
    }

    private static void CheckEndpoint(string text, string key, bool allowZero)
    {
        if (allowZero && text.EndsWith(":0", StringComparison.Ordinal) && text.Length > 2) return;
        try { Actors.Net.Tcp.Endpoints.ParseHostPort(text); }
        catch (FormatException e) { throw new SettingsException(key, e.Message); }
    }
}
