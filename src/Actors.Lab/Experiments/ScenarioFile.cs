using System.Globalization;
using Actors.Net.Configuration;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Actors.Lab.Experiments;

/// <summary>
/// Reads a scenario file (HOCON, the format of the rest of our configuration) into a
/// <see cref="Scenario"/>. Pure: no processes, no I/O beyond the text. Anything wrong throws
/// <see cref="SettingsException"/> naming the key, e.g. <c>scenario.method[2].at</c>. The shipped
/// files are in config/lab/; the fields are described in src/Actors.Lab/README.md.
/// </summary>
public static class ScenarioFile
{
    public static readonly string[] Roles = ["seed", "tracker", "web", "rendezvous", "relay"];
    public static readonly string[] Actions = ["kill", "pause", "resume", "terminate", "restart", "partition", "heal", "toxic", "clear", "hold-port"];
    public static readonly string[] ProbeTypes = ["nodes-up", "tracker-answers", "figure"];
    public static readonly string[] CheckTypes = ["files-identical", "swarm-completes", "announces-kept", "replicas-converge", "calls-survive", "relay-quota", "callers-registered", "node-exits"];
    public static readonly string[] RollbackNames = ["heal", "resume", "clear-links", "restart-stopped", "release-ports"];
    public static readonly string[] Kinds = ["cluster", "nat-matrix"];
    /// <summary>The checks of a <c>nat-matrix</c> scenario, one result per cell: the expected path, and the UDP media path where expected.</summary>
    public static readonly string[] NatCheckTypes = ["nat-paths", "nat-udp"];

    public static Scenario Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw new SettingsException(path, ex.Message); }
        return Parse(text, Path.GetFileNameWithoutExtension(path));
    }

    public static Scenario Parse(string text, string fallbackName = "scenario")
    {
        Config root;
        try { root = ConfigurationFactory.ParseString(text); }
        catch (Exception ex) { throw new SettingsException("scenario", $"not valid HOCON: {ex.Message}"); }
        if (!root.HasPath("scenario")) throw new SettingsException("scenario", "missing (the file's settings go in scenario { ... })");
        var s = new Section(root.GetValue("scenario"), "scenario");
        var kind = s.OptionalText("kind") is not null ? s.OneOf("kind", Kinds) : "cluster";

        var nodes = s.Objects("nodes").Select(n => new NodeSpec(
            n.Name("name"), n.OneOf("role", Roles), n.Strings("options"))).ToList();
        if (nodes.Count == 0) throw new SettingsException("scenario.nodes", "at least one node");
        foreach (var dup in nodes.GroupBy(n => n.Name).Where(g => g.Count() > 1))
            throw new SettingsException("scenario.nodes", $"node {dup.Key} is defined twice");
        if (nodes[0].Role != "seed") throw new SettingsException("scenario.nodes[0].role", "the first node must be the seed (the others join it)");
        var names = nodes.Select(n => n.Name).ToHashSet();
        string[] NodesOf(string role) => nodes.Where(n => n.Role == role).Select(n => n.Name).ToArray();

        var load = s.Child("load");
        SwarmLoadSpec? swarm = null;
        if (load?.Child("swarm") is { } w)
        {
            swarm = new SwarmLoadSpec(w.Ref("tracker", NodesOf("tracker")), w.Int("peers", 1, 64, 3), w.Int("seeders", 1, 8, 1),
                w.Bytes("size", 1, 1L << 32, 2 << 20), w.Bytes("piece-length", 16 << 10, 16 << 20, 64 << 10),
                w.Bytes("up-cap", 0, long.MaxValue, 0), w.Duration("start-at", TimeSpan.Zero), w.OptionalName("seeder-link"));
        }
        CallLoadSpec? calls = null;
        if (load?.Child("calls") is { } c)
        {
            var rendezvous = c.Strings("rendezvous");
            if (rendezvous.Count == 0) rendezvous = NodesOf("rendezvous");
            foreach (var r in rendezvous)
                if (!NodesOf("rendezvous").Contains(r)) throw new SettingsException("scenario.load.calls.rendezvous", $"{r} is not a rendezvous node of this scenario");
            if (rendezvous.Count == 0) throw new SettingsException("scenario.load.calls", "needs a rendezvous node");
            if (NodesOf("relay").Length == 0) throw new SettingsException("scenario.load.calls", "needs a relay node (callers that listen on nothing are relayed)");
            calls = new CallLoadSpec(rendezvous, c.Int("pairs", 1, 16, 1), c.Duration("duration", TimeSpan.FromSeconds(10)), c.Duration("start-at", TimeSpan.Zero),
                c.OptionalText("connected-before-method") is "on" or "true" or "yes");
        }
        AnnounceLoadSpec? announces = null;
        if (load?.Child("announces") is { } a)
        {
            var trackers = a.Strings("trackers");
            if (trackers.Count == 0) trackers = NodesOf("tracker");
            foreach (var t in trackers)
                if (!NodesOf("tracker").Contains(t)) throw new SettingsException("scenario.load.announces.trackers", $"{t} is not a tracker node of this scenario");
            announces = new AnnounceLoadSpec(trackers, a.Int("rate", 1, 1000, 10), a.Int("torrents", 1, 1000, 4));
        }

        var steady = s.Child("steady-state");
        var probes = steady?.Objects("probes").Select((p, i) =>
        {
            var type = p.OneOf("type", ProbeTypes);
            var probeNodes = p.Strings("nodes");
            if (probeNodes.Count == 0) probeNodes = type == "tracker-answers" ? NodesOf("tracker") : [.. names];
            foreach (var n in probeNodes)
                if (!names.Contains(n) && !IsLoadNode(n)) throw new SettingsException($"{p.Key}.nodes", $"{n} is not a node of this scenario");
            return new ProbeSpec(p.OptionalName("name") ?? $"{type} {string.Join(",", probeNodes)}", type, probeNodes,
                type == "figure" ? p.Name("figure") : "", p.Double("min", double.MinValue), p.Double("max", double.MaxValue), p.Double("during", 0),
                p.Flag("after", true));
        }).ToList() ?? [];

        var duration = s.Duration("duration", TimeSpan.FromSeconds(20));
        var method = s.Objects("method").Select(m =>
        {
            var action = m.OneOf("fault", Actions);
            var target = action is "heal" ? "" : m.Name(action is "partition" ? "spec" : action is "toxic" or "clear" ? "link" : "node");
            if (action is not ("partition" or "heal" or "toxic" or "clear") && !names.Contains(target) && !IsLoadNode(target) && target != BusiestRelay)
                throw new SettingsException($"{m.Key}.node", $"{target} is not a node of this scenario");
            if (action == "hold-port" && (target == BusiestRelay || nodes.Any(n => n.Name == target && n.Role == "seed")))
                throw new SettingsException($"{m.Key}.node", $"{target}: hold-port takes a node's service port (HTTP, callers', peer), and a seed node has none");
            var attributes = action == "toxic" ? m.Rest("at", "fault", "link") : new Dictionary<string, string>();
            if (action == "toxic" && !attributes.ContainsKey("type")) throw new SettingsException($"{m.Key}.type", "missing (latency, bandwidth, slicer, stall, reset, limit-data, down)");
            var at = m.Duration("at", null);
            if (at > duration) throw new SettingsException($"{m.Key}.at", $"after the scenario's duration ({duration.TotalSeconds} s)");
            return new FaultStep(at, action, target, attributes);
        }).OrderBy(f => f.At).ToList();

        NemesisSpec? nemesis = null;
        if (s.Child("nemesis") is { } n)
        {
            var faults = n.Strings("faults");
            foreach (var f in faults)
                if (f is not ("kill" or "pause" or "partition")) throw new SettingsException($"{n.Key}.faults", $"{f}: the nemesis draws kill, pause or partition");
            var targets = n.Strings("targets");
            foreach (var t in targets)
                if (!names.Contains(t) && !IsLoadNode(t)) throw new SettingsException($"{n.Key}.targets", $"{t} is not a node of this scenario");
            if (faults.Count == 0 || targets.Count == 0) throw new SettingsException(n.Key, "needs faults and targets");
            nemesis = new NemesisSpec(n.Duration("interval", TimeSpan.FromSeconds(5)), n.Duration("heal-after", TimeSpan.FromSeconds(2)), faults, targets);
        }

        var rollbacks = s.Strings("rollbacks");
        foreach (var r in rollbacks)
            if (!RollbackNames.Contains(r)) throw new SettingsException("scenario.rollbacks", $"{r}: expected {string.Join(", ", RollbackNames)}");

        if (kind == "nat-matrix") return NatMatrix(s, nodes, fallbackName);

        var checks = s.Objects("checks").Select(k =>
        {
            var type = k.OneOf("type", CheckTypes);
            if (type is "files-identical" or "swarm-completes" && swarm is null) throw new SettingsException(k.Key, $"{type} needs load.swarm");
            if (type is "announces-kept" or "replicas-converge" && announces is null) throw new SettingsException(k.Key, $"{type} needs load.announces");
            if (type is "calls-survive" or "relay-quota" or "callers-registered" && calls is null) throw new SettingsException(k.Key, $"{type} needs load.calls");
            var checkNodes = k.Strings("nodes");
            var says = "";
            if (type == "node-exits")
            {
                if (checkNodes.Count == 0) throw new SettingsException($"{k.Key}.nodes", "missing: the nodes whose process must exit");
                foreach (var node in checkNodes)
                    if (!names.Contains(node) && !IsLoadNode(node)) throw new SettingsException($"{k.Key}.nodes", $"{node} is not a node of this scenario");
                says = k.Name("says", 200);
            }
            // node-exits: the exit code, an integer (a process's status is 0-255; one killed by a signal exits 128 + its number).
            var limit = type == "node-exits" ? k.Int("code", 0, 255, 1)
                : k.Double(type switch { "calls-survive" => "min-path-changes", "relay-quota" => "max-duration-s", _ => "limit" }, type == "calls-survive" ? 1 : 0);
            return new CheckSpec(k.OptionalName("name") ?? type, type, k.Duration("within", TimeSpan.FromSeconds(15)), limit,
                k.Double(type == "calls-survive" ? "max-gap-ms" : "limit2", type == "calls-survive" ? 2000 : 0), checkNodes, says);
        }).ToList();
        if (checks.Count == 0 && probes.Count == 0) throw new SettingsException("scenario.checks", "a scenario checks something: add probes or checks");

        return new Scenario(s.OptionalName("name") ?? fallbackName, s.OptionalText("description") ?? "", s.Int("seed", 0, int.MaxValue, 1), duration,
            nodes, new LoadSpec(swarm, calls, announces), new SteadyState(steady?.Duration("within", TimeSpan.FromSeconds(30)) ?? TimeSpan.FromSeconds(30), probes),
            method, nemesis, rollbacks, checks);
    }

    /// <summary>
    /// The rest of a <c>kind = nat-matrix</c> scenario: one or two rendezvous nodes and relays (the
    /// seed first, as everywhere), a <c>nat</c> section (kinds, call-duration, min-frames) and
    /// nat checks; no load, probes, method or nemesis (the matrix is the load, its cells the checks).
    /// </summary>
    private static Scenario NatMatrix(Section s, IReadOnlyList<NodeSpec> nodes, string fallbackName)
    {
        foreach (var key in new[] { "load", "steady-state", "method", "nemesis", "rollbacks" })
            if (s.Has(key)) throw new SettingsException($"scenario.{key}", "not part of a nat-matrix scenario (its calls are the load, their paths the checks)");
        for (var i = 0; i < nodes.Count; i++)
            if (nodes[i].Role is not ("seed" or "rendezvous" or "relay")) throw new SettingsException($"scenario.nodes[{i}].role", "a nat-matrix scenario runs seed, rendezvous and relay nodes");
        foreach (var role in new[] { "rendezvous", "relay" })
        {
            var count = nodes.Count(n => n.Role == role);
            if (count is < 1 or > 2) throw new SettingsException("scenario.nodes", $"a nat-matrix scenario runs one or two {role} nodes, not {count}");
        }
        if (nodes.Count(n => n.Role == "seed") != 1) throw new SettingsException("scenario.nodes", "one seed");
        var nat = s.Child("nat") ?? throw new SettingsException("scenario.nat", "missing (kinds = [public, cone, symmetric], call-duration)");
        var kinds = nat.Strings("kinds").Select(k => Nat.NatMatrix.ParseKind(k) ?? throw new SettingsException("scenario.nat.kinds", $"\"{k}\": expected public, cone or symmetric")).Distinct().ToList();
        if (kinds.Count == 0) throw new SettingsException("scenario.nat.kinds", "at least one of public, cone, symmetric");
        var spec = new NatMatrixSpec(kinds, nat.Duration("call-duration", TimeSpan.FromSeconds(1.5)), nat.Int("min-frames", 0, 100_000, 10));
        var checks = s.Objects("checks").Select(k => new CheckSpec(k.OptionalName("name") ?? k.OneOf("type", NatCheckTypes), k.OneOf("type", NatCheckTypes),
            TimeSpan.Zero, 0, 0, [])).ToList();
        if (checks.Count == 0) throw new SettingsException("scenario.checks", "a scenario checks something: nat-paths and/or nat-udp");
        return new Scenario(s.OptionalName("name") ?? fallbackName, s.OptionalText("description") ?? "", s.Int("seed", 0, int.MaxValue, 1),
            TimeSpan.Zero, nodes, new LoadSpec(null, null, null), new SteadyState(TimeSpan.Zero, []), [], null, [], checks, spec);
    }

    /// <summary>A fault target resolved when the fault is applied: the relay node carrying the most sessions.</summary>
    public const string BusiestRelay = "busiest-relay";

    /// <summary>Load processes the runner starts have fixed names: seeder-I, leecher-I, caller-I, callee-I.</summary>
    public static bool IsLoadNode(string name) =>
        name.StartsWith("seeder-", StringComparison.Ordinal) || name.StartsWith("leecher-", StringComparison.Ordinal)
        || name.StartsWith("caller-", StringComparison.Ordinal) || name.StartsWith("callee-", StringComparison.Ordinal);

    /// <summary>One HOCON object and its key path, with typed getters whose errors name the key.</summary>
    private sealed class Section
    {
        private readonly Dictionary<string, HoconValue> _fields;
        public string Key { get; }

        public Section(HoconValue value, string key)
        {
            Key = key;
            try { _fields = value.GetObject().Items.ToDictionary(kv => kv.Key, kv => kv.Value); }
            catch (Exception) { throw new SettingsException(key, "expected an object { ... }"); }
        }

        private bool TryGet(string name, out HoconValue value) => _fields.TryGetValue(name, out value!) && !value.IsEmpty;

        public bool Has(string name) => TryGet(name, out _);

        public Section? Child(string name) => TryGet(name, out var v) ? new Section(v, $"{Key}.{name}") : null;

        public IReadOnlyList<Section> Objects(string name)
        {
            if (!TryGet(name, out var v)) return [];
            IList<HoconValue> items;
            try { items = v.GetArray(); }
            catch (Exception) { throw new SettingsException($"{Key}.{name}", "expected a list of objects [ { ... } ]"); }
            return items.Select((item, i) => new Section(item, $"{Key}.{name}[{i}]")).ToList();
        }

        public IReadOnlyList<string> Strings(string name)
        {
            if (!TryGet(name, out var v)) return [];
            try { return v.GetArray().Select(x => x.GetString().Trim()).ToList(); }
            catch (Exception) { /* not a list: a comma-separated string */ }
            try { return v.GetString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); }
            catch (Exception) { throw new SettingsException($"{Key}.{name}", "expected a list of strings"); }
        }

        public string? OptionalText(string name) => TryGet(name, out var v) ? v.GetString() : null;

        public string? OptionalName(string name, int maxLength = 64)
        {
            var text = OptionalText(name)?.Trim();
            if (text is null) return null;
            if (text.Length == 0 || text.Length > maxLength) throw new SettingsException($"{Key}.{name}", $"1 to {maxLength} characters");
            return text;
        }

        public string Name(string name, int maxLength = 64) => OptionalName(name, maxLength) ?? throw new SettingsException($"{Key}.{name}", "missing");

        public string OneOf(string name, string[] allowed)
        {
            var value = Name(name);
            return allowed.Contains(value) ? value : throw new SettingsException($"{Key}.{name}", $"\"{value}\": expected one of {string.Join(", ", allowed)}");
        }

        public string Ref(string name, string[] allowed)
        {
            var value = OptionalName(name) ?? allowed.FirstOrDefault() ?? throw new SettingsException($"{Key}.{name}", "missing (and no node of that role)");
            return allowed.Contains(value) ? value : throw new SettingsException($"{Key}.{name}", $"\"{value}\": expected one of [{string.Join(", ", allowed)}]");
        }

        public int Int(string name, int min, int max, int fallback)
        {
            if (!TryGet(name, out var v)) return fallback;
            if (!int.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
                throw new SettingsException($"{Key}.{name}", $"expected an integer between {min} and {max}, got \"{v.GetString()}\"");
            return value;
        }

        public bool Flag(string name, bool fallback)
        {
            if (!TryGet(name, out var v)) return fallback;
            return v.GetString() switch
            {
                "true" or "on" or "yes" => true,
                "false" or "off" or "no" => false,
                var other => throw new SettingsException($"{Key}.{name}", $"expected true or false, got \"{other}\""),
            };
        }

        public double Double(string name, double fallback)
        {
            if (!TryGet(name, out var v)) return fallback;
            return double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
                ? value : throw new SettingsException($"{Key}.{name}", $"expected a number, got \"{v.GetString()}\"");
        }

        public long Bytes(string name, long min, long max, long fallback)
        {
            if (!TryGet(name, out var v)) return fallback;
            long? value;
            try { value = v.GetByteSize(); }
            catch (Exception) { value = null; }
            if (value is null || value < min || value > max)
                throw new SettingsException($"{Key}.{name}", $"expected a size between {min} and {max} bytes (e.g. 4 MiB), got \"{v.GetString()}\"");
            return value.Value;
        }

        public TimeSpan Duration(string name, TimeSpan? fallback)
        {
            if (!TryGet(name, out var v)) return fallback ?? throw new SettingsException($"{Key}.{name}", "missing");
            TimeSpan value;
            try { value = v.GetTimeSpan(allowInfinite: false); }
            catch (Exception) { throw new SettingsException($"{Key}.{name}", $"expected a duration such as 5s, got \"{v.GetString()}\""); }
            if (value < TimeSpan.Zero || value > TimeSpan.FromHours(1)) throw new SettingsException($"{Key}.{name}", "between 0 and 1 h");
            return value;
        }

        /// <summary>Every field except the named ones, as text (a toxic's type, direction and attributes).</summary>
        public IReadOnlyDictionary<string, string> Rest(params string[] except) =>
            _fields.Where(f => !except.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value.GetString());
    }
}
