using System.Globalization;
using System.Text;
using Actors.Lab.Agent;
using Actors.Lab.Status;

namespace Actors.Lab.Api;

/// <summary>
/// Writes the lab's status as Prometheus text exposition format 0.0.4: one family per figure
/// name (dots → underscores; counters end in <c>_total</c>; the unit "By" adds <c>_bytes</c> and
/// "s" adds <c>_seconds</c> unless the name already says so, as OpenTelemetry's Prometheus
/// exporter names them), every sample labelled with its <c>node</c> and <c>role</c> plus the
/// figure's own tags; and <c>actors_lab_node_up</c> / <c>actors_lab_node_status</c> per node.
/// Only nodes that report now contribute figures, so a dead node's series go stale.
/// </summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(StatusSnapshot snapshot)
    {
        var families = new SortedDictionary<string, (string Type, string Help, List<string> Samples)>(StringComparer.Ordinal);
        void Add(string family, string type, string help, string labels, double value)
        {
            if (!families.TryGetValue(family, out var f)) families[family] = f = (type, help, []);
            f.Samples.Add($"{family}{{{labels}}} {Number(value)}");
        }

        foreach (var node in snapshot.Nodes)
        {
            var nodeLabels = $"node=\"{Escape(node.Name)}\",role=\"{Escape(string.Join(",", node.Roles))}\"";
            Add("actors_lab_node_up", "gauge", "1 when the node is up (a reachable member, or a running process that is no member)",
                nodeLabels, node.Status == "up" ? 1 : 0);
            Add("actors_lab_node_status", "gauge", "the node's status as a label (up, joining, leaving, unreachable, down, stopped, paused)",
                $"{nodeLabels},status=\"{Escape(node.Status)}\"", 1);
            if (node.UptimeSeconds is null) continue; // not reporting now: its figures are stale
            foreach (var figure in node.Figures)
            {
                var labels = nodeLabels;
                foreach (var tag in figure.Tags.Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = tag.IndexOf('=');
                    if (equals <= 0) continue;
                    labels += $",{LabelName(tag[..equals])}=\"{Escape(tag[(equals + 1)..])}\"";
                }
                Add(FamilyName(figure.Name, figure.Unit, figure.Kind), figure.Kind == Figure.Counter ? "counter" : "gauge",
                    figure.Description, labels, figure.Value);
            }
        }

        var text = new StringBuilder();
        foreach (var (name, (type, help, samples)) in families)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var sample in samples) text.Append(sample).Append('\n');
        }
        return text.ToString();
    }

    public static string FamilyName(string name, string unit, string kind)
    {
        var family = Sanitize(name, allowColon: true);
        var suffix = unit switch { "By" => "bytes", "s" => "seconds", _ => "" };
        if (suffix.Length > 0 && !family.Split('_').Contains(suffix)) family += "_" + suffix;
        if (kind == Figure.Counter && !family.EndsWith("_total", StringComparison.Ordinal)) family += "_total";
        return family;
    }

    private static string LabelName(string name)
    {
        var label = Sanitize(name, allowColon: false);
        return label.StartsWith("__", StringComparison.Ordinal) ? "tag" + label : label;
    }

    /// <summary>Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same without ':'.</summary>
    private static string Sanitize(string name, bool allowColon)
    {
        var result = new StringBuilder(name.Length + 1);
        foreach (var c in name)
            result.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        if (result.Length == 0 || char.IsAsciiDigit(result[0])) result.Insert(0, '_');
        return result.ToString();
    }

    public static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private static string Number(double value) =>
        double.IsNaN(value) ? "NaN"
        : double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : value.ToString("R", CultureInfo.InvariantCulture);
}
