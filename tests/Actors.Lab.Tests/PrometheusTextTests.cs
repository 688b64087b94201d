using Actors.Lab.Agent;
using Actors.Lab.Api;
using Actors.Lab.Status;
using Xunit;

namespace Actors.Lab.Tests;

public sealed class PrometheusTextTests
{
    private static NodeStatus Node(string name, string status, double? uptime, params FigureValue[] figures) =>
        new(name, ["tracker"], "akka.tcp://actors@127.0.0.1:1", status, true, false, 1, uptime, 0, true, figures, new Dictionary<string, double[]>());

    [Theory]
    [InlineData("actors.net.bytes.received", "By", Figure.Counter, "actors_net_bytes_received_total")]
    [InlineData("actors.process.memory.working_set", "By", Figure.Gauge, "actors_process_memory_working_set_bytes")]
    [InlineData("actors.process.cpu.time", "s", Figure.Counter, "actors_process_cpu_time_seconds_total")]
    [InlineData("actors.web.requests", "{request}", Figure.Counter, "actors_web_requests_total")]
    [InlineData("actors.net.connections.open", "{connection}", Figure.Gauge, "actors_net_connections_open")]
    [InlineData("9lives-x", "", Figure.Gauge, "_9lives_x")]
    public void Family_names_follow_the_OpenTelemetry_to_Prometheus_rules(string name, string unit, string kind, string expected) =>
        Assert.Equal(expected, PrometheusText.FamilyName(name, unit, kind));

    [Fact]
    public void Samples_carry_node_role_and_tags_with_one_help_and_type_per_family()
    {
        var text = PrometheusText.Write(new StatusSnapshot(0, null,
        [
            Node("web", "up", 10, new FigureValue("actors.web.requests", Figure.Counter, "{request}", "HTTP requests", "code=2xx", 5, 1),
                new FigureValue("actors.web.requests", Figure.Counter, "{request}", "HTTP requests", "code=4xx", 2, 0)),
            Node("web2", "up", 10, new FigureValue("actors.web.requests", Figure.Counter, "{request}", "HTTP requests", "code=2xx", 7, 1)),
        ]));
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l == "# TYPE actors_web_requests_total counter");
        Assert.Single(lines, l => l == "# HELP actors_web_requests_total HTTP requests");
        Assert.Contains("actors_web_requests_total{node=\"web\",role=\"tracker\",code=\"2xx\"} 5", lines);
        Assert.Contains("actors_web_requests_total{node=\"web\",role=\"tracker\",code=\"4xx\"} 2", lines);
        Assert.Contains("actors_web_requests_total{node=\"web2\",role=\"tracker\",code=\"2xx\"} 7", lines);
        // Samples of a family follow its TYPE line, before any other family's.
        var type = Array.IndexOf(lines, "# TYPE actors_web_requests_total counter");
        Assert.All(lines.Select((l, i) => (l, i)).Where(x => x.l.StartsWith("actors_web_requests_total{")), x => Assert.True(x.i > type));
        Assert.EndsWith("\n", text);
    }

    [Fact]
    public void Label_values_are_escaped_and_values_are_invariant_numbers()
    {
        var text = PrometheusText.Write(new StatusSnapshot(0, null,
            [Node("a\"b\\c\nd", "up", 1, new FigureValue("x", Figure.Gauge, "", "help with \\ and\nnewline", "", 1.5, null))]));
        Assert.Contains("x{node=\"a\\\"b\\\\c\\nd\",role=\"tracker\"} 1.5\n", text);
        Assert.Contains("# HELP x help with \\\\ and\\nnewline\n", text);
    }

    [Fact]
    public void A_node_that_does_not_report_now_has_status_series_but_no_figures()
    {
        var text = PrometheusText.Write(new StatusSnapshot(0, null,
            [Node("tracker2", "down", null, new FigureValue("actors.tracker.peers", Figure.Gauge, "{peer}", "peers", "", 3, null))]));
        Assert.Contains("actors_lab_node_up{node=\"tracker2\",role=\"tracker\"} 0", text);
        Assert.Contains("actors_lab_node_status{node=\"tracker2\",role=\"tracker\",status=\"down\"} 1", text);
        Assert.DoesNotContain("actors_tracker_peers", text);
    }
}
