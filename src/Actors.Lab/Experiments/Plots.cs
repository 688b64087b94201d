using ScottPlot;

namespace Actors.Lab.Experiments;

/// <summary>
/// The run's PNG plots (ScottPlot), time on the run's clock (t = 0 when the method begins), every
/// fault window shaded and labelled: which nodes were up; the load (announces per second,
/// leechers complete, calls reported); and the figures that tell each scenario's story, one line
/// per node (tracker announces/s, relay sessions, registered callers, bytes sent/s).
/// </summary>
public static class Plots
{
    // Figure → (title, is a counter plotted as a rate per second).
    private static readonly (string Figure, string Title, bool Rate)[] Figures =
    [
        ("actors.tracker.announces", "tracker announces per second", true),
        ("actors.tracker.peers", "peers tracked", false),
        ("actors.relay.sessions", "relay sessions", false),
        ("actors.rendezvous.callers", "registered callers", false),
        ("actors.net.bytes.sent", "bytes sent per second (MiB/s)", true),
    ];

    public static IReadOnlyList<string> Write(string dir, Scenario scenario, RunRecord record)
    {
        var samples = record.Samples.ToList();
        var written = new List<string>();
        if (samples.Count == 0) return written;

        // Which nodes were up: one band per node, high while up (the process runs and the lab says
        // up); dashed, the lab's word alone, which lags a kill by the failure detector's time.
        var nodes = samples.Where(s => s.Metric == "up").Select(s => s.Node).Distinct().Order().ToList();
        if (nodes.Count > 0)
        {
            var plot = NewPlot($"{scenario.Name}: nodes up");
            for (var i = 0; i < nodes.Count; i++)
            {
                var up = Series(samples, nodes[i], "up");
                var line = plot.Add.Scatter(up.Select(s => s.T).ToArray(), up.Select(s => i + 0.8 * s.Value).ToArray());
                line.MarkerSize = 0;
                line.LineWidth = 2;
                line.ConnectStyle = ConnectStyle.StepHorizontal;
                if (i == 0) line.LegendText = "up (the process runs and the cluster says up)";
                var said = Series(samples, nodes[i], "cluster-up");
                if (said.Count == 0) continue;
                var dashed = plot.Add.Scatter(said.Select(s => s.T).ToArray(), said.Select(s => i + 0.1 + 0.6 * s.Value).ToArray());
                dashed.MarkerSize = 0;
                dashed.LineWidth = 1;
                dashed.LinePattern = LinePattern.Dashed;
                dashed.Color = line.Color;
                dashed.ConnectStyle = ConnectStyle.StepHorizontal;
                if (i == 0) dashed.LegendText = "the cluster says up (the failure detector's view)";
            }
            plot.Axes.Left.SetTicks(nodes.Select((_, i) => i + 0.4).ToArray(), nodes.ToArray());
            plot.YLabel("node (high = up)");
            plot.ShowLegend(Edge.Bottom);
            written.Add(Save(plot, dir, "nodes.png", record));
        }

        // The load, as the runner saw it.
        var loadMetrics = samples.Where(s => s.Node == "load").Select(s => s.Metric).Distinct().Order().ToList();
        if (loadMetrics.Count > 0)
        {
            var plot = NewPlot($"{scenario.Name}: load");
            foreach (var metric in loadMetrics)
            {
                var series = samples.Where(s => s.Node == "load" && s.Metric == metric).OrderBy(s => s.T).ToList();
                var rate = metric.StartsWith("announces.", StringComparison.Ordinal);
                var (xs, ys) = rate ? Rate(series) : (series.Select(s => s.T).ToArray(), series.Select(s => s.Value).ToArray());
                var line = plot.Add.Scatter(xs, ys);
                line.MarkerSize = 0;
                line.LegendText = rate ? metric + " per s" : metric;
            }
            plot.ShowLegend(Alignment.UpperLeft);
            written.Add(Save(plot, dir, "load.png", record));
        }

        foreach (var (figure, title, isRate) in Figures)
        {
            var byNode = samples.Where(s => s.Node != "load" && (s.Metric == figure || s.Metric.StartsWith(figure + "{", StringComparison.Ordinal)))
                .GroupBy(s => s.Node).ToList();
            if (byNode.Count == 0 || byNode.All(g => g.All(s => s.Value == 0))) continue;
            var plot = NewPlot($"{scenario.Name}: {title}");
            foreach (var node in byNode.OrderBy(g => g.Key))
            {
                // Several tag sets of one figure are summed per sample time.
                var series = node.GroupBy(s => s.T).Select(g => new Sample(g.Key, node.Key, figure, g.Sum(s => s.Value))).OrderBy(s => s.T).ToList();
                var (xs, ys) = isRate ? Rate(series) : (series.Select(s => s.T).ToArray(), series.Select(s => s.Value).ToArray());
                if (figure == "actors.net.bytes.sent") ys = ys.Select(y => y / (1 << 20)).ToArray();
                var line = plot.Add.Scatter(xs, ys);
                line.MarkerSize = 0;
                line.LegendText = node.Key;
            }
            plot.ShowLegend(Alignment.UpperLeft);
            written.Add(Save(plot, dir, figure.Replace("actors.", "").Replace('.', '-') + ".png", record));
        }
        return written;
    }

    private static List<Sample> Series(List<Sample> samples, string node, string metric) =>
        samples.Where(s => s.Node == node && s.Metric == metric).OrderBy(s => s.T).ToList();

    private static Plot NewPlot(string title)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("seconds since the method began (fault windows shaded)");
        return plot;
    }

    /// <summary>A counter as a rate: the difference between samples over their time apart.</summary>
    public static (double[] X, double[] Y) Rate(IReadOnlyList<Sample> series)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        for (var i = 1; i < series.Count; i++)
        {
            var dt = series[i].T - series[i - 1].T;
            if (dt <= 0) continue;
            xs.Add(series[i].T);
            ys.Add(Math.Max(0, series[i].Value - series[i - 1].Value) / dt);
        }
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>Shades each fault window (and marks the method's end), then saves the PNG; returns its file name.</summary>
    public static string Save(Plot plot, string dir, string file, RunRecord record)
    {
        Shade(plot, record.FaultWindows);
        if (record.MethodEnd > 0)
        {
            var end = plot.Add.VerticalLine(record.MethodEnd);
            end.LineColor = Colors.Gray;
            end.LinePattern = LinePattern.Dashed;
        }
        plot.SavePng(Path.Combine(dir, file), 900, 420);
        return file;
    }

    public static void Shade(Plot plot, IEnumerable<(TimeSpan From, TimeSpan To, string Label)> windows)
    {
        var palette = new[] { Colors.Red, Colors.Orange, Colors.Purple, Colors.Brown };
        var i = 0;
        foreach (var (from, to, label) in windows)
        {
            var span = plot.Add.HorizontalSpan(from.TotalSeconds, Math.Max(to.TotalSeconds, from.TotalSeconds + 0.2));
            span.FillStyle.Color = palette[i++ % palette.Length].WithAlpha(0.18);
            span.LineStyle.Width = 0;
            span.LegendText = label;
        }
    }
}
