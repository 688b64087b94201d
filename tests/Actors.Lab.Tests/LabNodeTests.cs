using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Actors.Lab.Agent;
using Akka.Actor;
using Xunit;

namespace Actors.Lab.Tests;

/// <summary>
/// A one-node cluster in this process running the lab and an agent: the HTTP API, the token rule,
/// Server-Sent Events and /metrics, over real sockets on loopback.
/// </summary>
public sealed class LabNodeTests : InProcessLab
{
    protected override void StartAlongside() =>
        Sys.ActorOf(NodeAgent.Props("lab-under-test", ["lab"], TimeSpan.FromMilliseconds(200)), "lab-agent");

    private async Task<JsonElement> StatusNode(string name, Func<JsonElement, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            using var doc = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Lab, "api/status")));
            foreach (var node in doc.RootElement.GetProperty("nodes").EnumerateArray())
                if (node.GetProperty("name").GetString() == name && until(last = node.Clone())) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"node {name} never matched; last: {last}");
    }

    [Fact]
    public async Task Status_lists_the_agents_node_with_its_roles_and_figures()
    {
        var node = await StatusNode("lab-under-test", n => n.GetProperty("status").GetString() == "up"
            && n.GetProperty("figures").EnumerateArray().Any(f => f.GetProperty("name").GetString() == "actors.process.memory.working_set"));
        Assert.Equal("lab", node.GetProperty("roles")[0].GetString());
        Assert.True(node.GetProperty("leader").GetBoolean());
        Assert.Equal(Environment.ProcessId, node.GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task A_change_without_the_right_token_is_refused_and_recorded()
    {
        using var none = await Http.PostAsync(new Uri(Lab, "api/nodes/tracker2/kill"), new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Post, new Uri(Lab, "api/nodes/tracker2/kill"));
        wrong.Headers.Add("X-Lab-Token", "not-the-token");
        using var wrongAnswer = await Http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongAnswer.StatusCode);

        // With the token the request is taken (and fails only because no such node was started).
        using var right = new HttpRequestMessage(HttpMethod.Post, new Uri(Lab, "api/nodes/tracker2/kill"));
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        using var rightAnswer = await Http.SendAsync(right);
        Assert.Equal(HttpStatusCode.NotFound, rightAnswer.StatusCode);

        var recent = await Http.GetStringAsync(new Uri(Lab, "api/events/recent?n=50"));
        Assert.Equal(2, JsonDocument.Parse(recent).RootElement.EnumerateArray().Count(e => e.GetProperty("kind").GetString() == "fault-refused"));
    }

    [Fact]
    public async Task Events_stream_live_over_server_sent_events()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Lab, "api/events?backlog=0"));
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancel.Token), Encoding.UTF8);

        // Something that makes an event: a refused change.
        using var refused = await Http.PostAsync(new Uri(Lab, "api/heal"), new ByteArrayContent([]));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        bool sawStatus = false, sawEvent = false;
        string? eventName = null;
        while (!(sawStatus && sawEvent) && await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            using var data = JsonDocument.Parse(line[6..]);
            if (eventName == "status") sawStatus = data.RootElement.GetProperty("nodes").GetArrayLength() > 0;
            if (eventName == "lab" && data.RootElement.GetProperty("kind").GetString() == "fault-refused") sawEvent = true;
        }
        Assert.True(sawStatus && sawEvent, $"status seen: {sawStatus}, event seen: {sawEvent}");
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_and_the_dashboard_is_served()
    {
        await StatusNode("lab-under-test", n => n.GetProperty("uptimeSeconds").ValueKind == JsonValueKind.Number);
        using var metrics = await Http.GetAsync(new Uri(Lab, "metrics"));
        Assert.Equal("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0.0.4", metrics.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Contains("actors_lab_node_up{node=\"lab-under-test\",role=\"lab\"} 1", text);
        Assert.Contains("# TYPE actors_process_cpu_time_seconds_total counter", text);

        var page = await Http.GetStringAsync(Lab);
        Assert.Contains("<title>Actors Lab</title>", page);
        Assert.Contains("EventSource", await Http.GetStringAsync(new Uri(Lab, "app.js")));
        using var missing = await Http.GetAsync(new Uri(Lab, "nope"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}

/// <summary>Processes that are no cluster members (peers, callers) report over POST /api/report; the lab builds the swarm and calls views.</summary>
public sealed class ProcessReportTests : InProcessLab
{
    [Fact]
    public async Task Reports_of_peers_and_callers_become_the_swarm_and_calls_views()
    {
        var target = new LabTarget(Lab, Token);
        var seeder = Sys.ActorOf(ProcessReporter.Props(target, "seeder-proc", ["peer"], TimeSpan.FromMilliseconds(200)));
        var leecher = Sys.ActorOf(ProcessReporter.Props(target, "leecher-proc", ["peer"], TimeSpan.FromMilliseconds(200)));
        seeder.Tell(new ProcessReporter.SetTorrents([new TorrentPeerView("AB12", "file.bin", "5345", "", 8, 8, true, 7001,
            [new ExchangeView("4C45", "127.0.0.1:7002", 4096, 0, true)])]));
        leecher.Tell(new ProcessReporter.SetTorrents([new TorrentPeerView("AB12", "file.bin", "4C45", "", 4, 8, false, 7002,
            [new ExchangeView("5345", "127.0.0.1:7001", 0, 5000, true), new ExchangeView("0A0B", "127.0.0.1:9999", 100, 0, false)])]));
        var alice = Sys.ActorOf(ProcessReporter.Props(target, "caller-alice", ["caller"], TimeSpan.FromMilliseconds(200)));
        var bob = Sys.ActorOf(ProcessReporter.Props(target, "caller-bob", ["caller"], TimeSpan.FromMilliseconds(200)));
        alice.Tell(new ProcessReporter.CallChanged(new CallView("c1", "alice", "bob", "caller", "in-call", "relay", 321, 4, 0.01, null, 1)));
        bob.Tell(new ProcessReporter.CallChanged(new CallView("c1", "bob", "alice", "callee", "in-call", "relay", 333, 5, 0, null, 2)));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonElement root = default;
        while (DateTime.UtcNow < deadline)
        {
            root = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Lab, "api/status"))).RootElement;
            // Every report in, not only some: the leecher's report alone already lists three peers,
            // the seeder among them seen but not reported (no completion yet), and the callee's
            // report alone already makes the call (with its own figures).
            if (root.GetProperty("swarms").GetArrayLength() == 1 && root.GetProperty("calls").GetArrayLength() == 1
                && root.GetProperty("swarms")[0].GetProperty("peers").GetArrayLength() == 3
                && root.GetProperty("swarms")[0].GetProperty("peers").EnumerateArray().Count(p => p.GetProperty("reported").GetBoolean()) == 2
                && root.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("name").GetString() is "caller-alice" or "caller-bob") == 2
                && root.GetProperty("calls")[0].GetProperty("rttMs") is { ValueKind: JsonValueKind.Number } rtt && rtt.GetDouble() == 321) break;
            await Task.Delay(200);
        }
        var swarm = root.GetProperty("swarms")[0];
        var peers = swarm.GetProperty("peers").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
        Assert.Equal(100, peers["5345"].GetProperty("completion").GetDouble());
        Assert.Equal(50, peers["4C45"].GetProperty("completion").GetDouble());
        Assert.Equal("leecher-proc", peers["4C45"].GetProperty("label").GetString());
        Assert.False(peers["0A0B"].GetProperty("reported").GetBoolean()); // seen by a reporting peer only
        var transfers = swarm.GetProperty("transfers").EnumerateArray()
            .ToDictionary(t => t.GetProperty("from").GetString() + ">" + t.GetProperty("to").GetString(), t => t.GetProperty("bytes").GetInt64());
        Assert.Equal(5000, transfers["5345>4C45"]); // the larger of "seeder uploaded 4096" and "leecher downloaded 5000"
        Assert.Equal(100, transfers["4C45>0A0B"]);
        var call = root.GetProperty("calls")[0];
        Assert.Equal("alice", call.GetProperty("from").GetString());
        Assert.Equal("bob", call.GetProperty("to").GetString());
        Assert.Equal("relay", call.GetProperty("path").GetString());
        Assert.Equal(321, call.GetProperty("rttMs").GetDouble()); // the caller's side first
        Assert.Contains(root.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("name").GetString() == "caller-alice" && n.GetProperty("status").GetString() == "up");
    }

    [Fact]
    public async Task A_report_without_the_token_or_with_bad_json_changes_nothing()
    {
        using var refused = await Http.PostAsync(new Uri(Lab, "api/report"), new StringContent("{\"node\":\"x\"}"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        using var bad = new HttpRequestMessage(HttpMethod.Post, new Uri(Lab, "api/report")) { Content = new StringContent("{not json") };
        bad.Headers.Add("X-Lab-Token", Token);
        using var answer = await Http.SendAsync(bad);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, answer.StatusCode);
        using var status = JsonDocument.Parse(await Http.GetStringAsync(new Uri(Lab, "api/status")));
        Assert.DoesNotContain(status.RootElement.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("name").GetString() == "x");
    }
}
